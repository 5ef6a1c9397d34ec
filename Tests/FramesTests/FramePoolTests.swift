// Plane geometry of every format, and the pool's fixed-size, return-on-drop behaviour.

import Frames
import Testing

@Test(arguments: [(640, 480), (641, 479), (1, 1), (1280, 720)])
func layoutsHoldEveryPlane(width: Int, height: Int) {
    let chromaWidth = (width + 1) / 2, chromaHeight = (height + 1) / 2
    let expected: [PixelFormat: [(Int, Int)]] = [
        .gray8: [(width, height)],
        .i420: [(width, height), (chromaWidth, chromaHeight), (chromaWidth, chromaHeight)],
        .i422: [(width, height), (chromaWidth, height), (chromaWidth, height)],
        .nv12: [(width, height), (chromaWidth * 2, chromaHeight)],
        .yuyv: [(chromaWidth * 4, height)],
    ]
    for (format, sizes) in expected {
        let layout = FrameLayout(format: format, width: width, height: height)
        #expect(layout.planes.count == format.planeCount)
        #expect(layout.planes.map { [$0.width, $0.height] } == sizes.map { [$0.0, $0.1] }, "\(format)")
        var end = 0
        for plane in layout.planes {
            #expect(plane.stride >= plane.width)
            #expect(plane.stride % FrameLayout.defaultAlignment == 0)
            #expect(plane.offset >= end, "\(format) planes overlap")
            end = plane.offset + plane.byteCount
        }
        #expect(end <= layout.byteCount)
    }
}

@Test func poolHandsOutFixedBuffersAndTakesThemBackOnDrop() {
    let layout = FrameLayout(format: .i420, width: 64, height: 48)
    let pool = FramePool(count: 2, layout: layout)
    let clock = ContinuousClock()
    var first = pool.makeFrame(layout: layout, sequence: 0, captureTime: clock.now)
    let second = pool.makeFrame(layout: layout, sequence: 1, captureTime: clock.now)
    let bothMade = first != nil && second != nil
    #expect(bothMade)
    #expect(pool.available == 0)
    let refused = pool.makeFrame(layout: layout, sequence: 2, captureTime: clock.now) == nil
    #expect(refused)
    #expect(pool.exhaustedCount == 1)
    let firstAddress = first?.buffer.baseAddress
    first = nil
    #expect(pool.available == 1)
    var third = pool.makeFrame(layout: layout, sequence: 2, captureTime: clock.now)
    let thirdAddress = third?.buffer.baseAddress
    #expect(thirdAddress == firstAddress, "the pool reuses the returned buffer")
    _ = consume second
    third = nil
    #expect(pool.available == 2)
    #expect(pool.acquiredCount == 3)
}

@Test func layoutLargerThanTheBufferIsRefused() {
    let small = FrameLayout(format: .gray8, width: 16, height: 16)
    let pool = FramePool(count: 1, layout: small)
    let big = FrameLayout(format: .gray8, width: 64, height: 64)
    let refused = pool.makeFrame(layout: big, sequence: 0, captureTime: .now) == nil
    #expect(refused)
    var frame = pool.makeFrame(layout: small, sequence: 0, captureTime: .now)!
    let changed = frame.setLayout(big)
    #expect(!changed)
    #expect(frame.width == 16)
}

@Test func payloadCopiesIntoTheFrameAndRejectsOverflow() {
    let layout = FrameLayout(format: .mjpeg, width: 0, height: 0, payloadCapacity: 8)
    let pool = FramePool(count: 1, layout: layout)
    var frame = pool.makeFrame(layout: layout, sequence: 0, captureTime: .now)!
    let bytes: [UInt8] = [0xFF, 0xD8, 1, 2, 0xFF, 0xD9]
    #expect(bytes.withUnsafeBytes { frame.setPayload($0) })
    #expect(Array(frame.payload) == bytes)
    let tooMany = [UInt8](repeating: 0, count: 9)
    #expect(!tooMany.withUnsafeBytes { frame.setPayload($0) })
    #expect(frame.payloadSize == bytes.count)
}
