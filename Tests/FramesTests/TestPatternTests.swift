// The test pattern: a pure function of (index, layout) for every raw format, different from one
// index to the next, with the bars, band and box where the geometry says.

import Testing
import Frames

private func render(_ index: UInt64, _ layout: FrameLayout, fill: UInt8 = 0xA5) -> [UInt8] {
    var bytes = [UInt8](repeating: fill, count: layout.byteCount)
    bytes.withUnsafeMutableBytes { renderTestPattern(index: index, layout: layout, into: $0.baseAddress!) }
    return bytes
}

/// Visible samples only (row padding is not the pattern's).
private func visible(_ bytes: [UInt8], _ layout: FrameLayout) -> [UInt8] {
    layout.planes.flatMap { plane in
        (0..<plane.height).flatMap { row in bytes[(plane.offset + row * plane.stride)..<(plane.offset + row * plane.stride + plane.rowBytes)] }
    }
}

@Suite struct TestPatternTests {
    @Test(arguments: [PixelFormat.i420, .gray8, .nv12, .yuyv, .i422])
    func pureAndMoving(format: PixelFormat) {
        for (width, height) in [(640, 480), (97, 61), (2, 2), (33, 1)] {
            let layout = FrameLayout(format: format, width: width, height: height)
            let first = visible(render(7, layout, fill: 0x00), layout)
            #expect(first == visible(render(7, layout, fill: 0xFF), layout), "every visible byte is written: \(format) \(width)x\(height)")
            #expect(first != visible(render(8, layout), layout), "\(format) \(width)x\(height)")
            #expect(visible(render(1000, layout), layout) != visible(render(1001, layout), layout))
        }
    }

    @Test func lumaShowsBarsBandAndBox() {
        let layout = FrameLayout(format: .i420, width: 640, height: 480)
        let index: UInt64 = 0b1011
        let bytes = render(index, layout)
        let geometry = TestPatternGeometry(index: index, width: 640, height: 480)
        let stride = layout.planes[0].stride
        func luma(_ x: Int, _ y: Int) -> UInt8 { bytes[y * stride + x] }
        // White bar at the left, black at the right (away from the box).
        let row = geometry.boxY > 100 ? 10 : geometry.barsHeight - 10
        #expect(luma(5, row) == 255)
        #expect(luma(635, row) == 0)
        // Counter band: the last 4 of 32 bits spell 1011.
        let bandRow = geometry.barsHeight + 2
        let cell = geometry.cellWidth
        #expect([28, 29, 30, 31].map { luma($0 * cell + cell / 2, bandRow) } == [255, 0, 255, 255])
        #expect(luma(cell / 2, bandRow) == 0)
        // The box is grey, flat inside.
        let inside = luma(geometry.boxX + geometry.boxSide / 2, geometry.boxY + geometry.boxSide / 2)
        #expect(inside == UInt8(64 + (index % 8) * 16))
        // It moves.
        let next = TestPatternGeometry(index: index + 1, width: 640, height: 480)
        #expect(next.boxX != geometry.boxX || next.boxY != geometry.boxY)
    }

    @Test func boxStaysInside() {
        for index in stride(from: UInt64(0), to: 2000, by: 37) {
            let geometry = TestPatternGeometry(index: index, width: 320, height: 240)
            #expect(geometry.boxX >= 0 && geometry.boxX + geometry.boxSide <= 320)
            #expect(geometry.boxY >= 0 && geometry.boxY + geometry.boxSide <= geometry.barsHeight)
        }
    }
}
