// Histogram equalisation of a grey plane, as OpenCV's equalizeHist computes it, so that the
// cascades see the contrast-stretched image OpenCV's own face detection sample gives them.

/// The lookup table OpenCV's `equalizeHist` builds for a histogram: the first occupied level maps
/// to 0, each later level to its cumulative count (less the first level's) times
/// 255 / (total - first level's count), rounded to nearest. An image of one level maps to itself.
public func equalizationTable(histogram: UnsafePointer<Int>, total: Int) -> [UInt8] {
    var table = [UInt8](repeating: 0, count: 256)
    table.withUnsafeMutableBufferPointer { equalizationTable(histogram: histogram, total: total, into: $0.baseAddress!) }
    return table
}

/// As `equalizationTable(histogram:total:)`, into 256 caller-owned bytes.
public func equalizationTable(histogram: UnsafePointer<Int>, total: Int, into table: UnsafeMutablePointer<UInt8>) {
    table.update(repeating: 0, count: 256)
    var first = 0
    while first < 256 && histogram[first] == 0 { first += 1 }
    guard first < 256 else { return }
    if histogram[first] == total {
        for index in 0..<256 { table[index] = UInt8(first) }
        return
    }
    let scale = Float(255) / Float(total - histogram[first])
    var sum = 0
    for level in (first + 1)..<256 {
        sum += histogram[level]
        let value = (Float(sum) * scale).rounded(.toNearestOrEven)
        table[level] = UInt8(min(255, max(0, value)))
    }
}

/// Writes the histogram-equalised `source` into `destination` (may not overlap). `histogram`
/// (256 counts) and `table` (256 bytes) are caller-owned scratch, so a frame allocates nothing.
public func equalizeHistogram(source: UnsafePointer<UInt8>, width: Int, height: Int, stride: Int,
                              destination: UnsafeMutablePointer<UInt8>, destinationStride: Int,
                              histogram: UnsafeMutablePointer<Int>, table: UnsafeMutablePointer<UInt8>) {
    guard width > 0, height > 0 else { return }
    histogram.update(repeating: 0, count: 256)
    for row in 0..<height {
        let line = source + row * stride
        for column in 0..<width { histogram[Int(line[column])] &+= 1 }
    }
    equalizationTable(histogram: histogram, total: width * height, into: table)
    for row in 0..<height {
        let line = source + row * stride, target = destination + row * destinationStride
        for column in 0..<width { target[column] = table[Int(line[column])] }
    }
}
