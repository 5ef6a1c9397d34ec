// Redaction: the only module that can make a RedactedFrame (issue 5, in progress).
