// Analysis: motion, cascade detectors, tracking, counts and the budget scheduler (issue 4).
