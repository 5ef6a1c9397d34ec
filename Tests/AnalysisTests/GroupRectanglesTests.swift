// groupRectangles on hand-built sets of boxes: clustering, averaging with OpenCV's rounding, the
// neighbour threshold and the rule that drops a weak cluster inside a stronger one.

import Testing
@testable import Analysis

@Suite("groupRectangles")
struct GroupRectanglesTests {
    func box(_ x: Int, _ y: Int, _ width: Int, _ height: Int) -> DetectionBox {
        DetectionBox(x: x, y: y, width: width, height: height)
    }

    @Test("a threshold of 0 returns the hits unchanged")
    func passThrough() {
        let hits = [box(0, 0, 10, 10), box(1, 1, 10, 10), box(100, 100, 5, 5)]
        #expect(groupRectangles(hits, groupThreshold: 0) == hits)
        #expect(groupRectangles([], groupThreshold: 3) == [])
    }

    @Test("a cluster with more members than the threshold becomes its rounded mean")
    func averaging() {
        // Mean x = 101.5 -> 102 (half to even), y = 50.25 -> 50, sizes 24.5 -> 24, 25.
        let hits = [box(100, 50, 24, 24), box(102, 50, 24, 25), box(101, 51, 25, 25), box(103, 50, 25, 24)]
        #expect(groupRectangles(hits, groupThreshold: 3) == [box(102, 50, 24, 24)])
        #expect(groupRectangles(hits, groupThreshold: 4) == [])
    }

    @Test("similarity is transitive: a chain of near boxes is one cluster")
    func chaining() {
        // Each step of 4 pixels is within 0.2 * 24 = 4.8 of its neighbour; the ends are 16 apart.
        let chain = (0..<5).map { box(100 + 4 * $0, 100, 24, 24) }
        #expect(groupRectangles(chain, groupThreshold: 1) == [box(108, 100, 24, 24)])
        // Break the chain: two clusters.
        let broken = [box(0, 0, 24, 24), box(4, 0, 24, 24), box(40, 0, 24, 24), box(44, 0, 24, 24)]
        #expect(groupRectangles(broken, groupThreshold: 1) == [box(2, 0, 24, 24), box(42, 0, 24, 24)])
    }

    @Test("a weak cluster inside a stronger one is dropped; an equally strong one is kept")
    func nested() {
        let big = (0..<6).map { _ in box(100, 100, 100, 100) }
        let small = (0..<4).map { _ in box(120, 120, 30, 30) }
        #expect(groupRectangles(big + small, groupThreshold: 2) == [box(100, 100, 100, 100)])
        // With as many members as the big one (and at least 3), the inner cluster stays.
        let strongSmall = (0..<6).map { _ in box(120, 120, 30, 30) }
        #expect(groupRectangles(big + strongSmall, groupThreshold: 2) == [box(100, 100, 100, 100), box(120, 120, 30, 30)])
        // The inner box may poke out by up to eps of the outer size (20 pixels here).
        let poking = (0..<4).map { _ in box(85, 120, 30, 30) }
        #expect(groupRectangles(big + poking, groupThreshold: 2) == [box(100, 100, 100, 100)])
        let outside = (0..<4).map { _ in box(75, 120, 30, 30) }
        #expect(groupRectangles(big + outside, groupThreshold: 2).count == 2)
    }

    @Test("boxes of very different sizes do not cluster; a cluster of fewer than 3 inside another is dropped")
    func differentSizes() {
        let hits = [box(0, 0, 20, 20), box(0, 0, 20, 20), box(0, 0, 40, 40), box(0, 0, 40, 40)]
        #expect(groupRectangles(hits, groupThreshold: 1) == [box(0, 0, 40, 40)])
        let apart = [box(0, 0, 20, 20), box(0, 0, 20, 20), box(100, 0, 40, 40), box(100, 0, 40, 40)]
        #expect(groupRectangles(apart, groupThreshold: 1) == [box(0, 0, 20, 20), box(100, 0, 40, 40)])
    }

    @Test("intersection over union")
    func iou() {
        #expect(box(0, 0, 10, 10).intersectionOverUnion(box(0, 0, 10, 10)) == 1)
        #expect(box(0, 0, 10, 10).intersectionOverUnion(box(5, 0, 10, 10)) == 50.0 / 150.0)
        #expect(box(0, 0, 10, 10).intersectionOverUnion(box(10, 0, 10, 10)) == 0)
    }
}
