import Frames
import Testing

@Test("Equalisation follows OpenCV's equalizeHist: first level to 0, the rest by cumulative count")
func equalisationMatchesOpenCVsFormula() {
    // Three levels, 4 pixels each, in a 4x3 plane with a stride of 6.
    let stride = 6
    var source = [UInt8](repeating: 99, count: stride * 3)
    for row in 0..<3 { for column in 0..<4 { source[row * stride + column] = [10, 20, 30][row] } }
    var destination = [UInt8](repeating: 0, count: 4 * 3)
    var histogram = [Int](repeating: 0, count: 256)
    var table = [UInt8](repeating: 0, count: 256)
    source.withUnsafeBufferPointer { input in
        destination.withUnsafeMutableBufferPointer { output in
            histogram.withUnsafeMutableBufferPointer { counts in
                table.withUnsafeMutableBufferPointer { lookup in
                    equalizeHistogram(source: input.baseAddress!, width: 4, height: 3, stride: stride,
                                      destination: output.baseAddress!, destinationStride: 4,
                                      histogram: counts.baseAddress!, table: lookup.baseAddress!)
                }
            }
        }
    }
    // scale = 255 / (12 - 4); level 20: 4 * scale = 127.5 -> 128 (to even); level 30: 8 * scale = 255.
    #expect(Array(destination[0..<4]) == [0, 0, 0, 0])
    #expect(Array(destination[4..<8]) == [128, 128, 128, 128])
    #expect(Array(destination[8..<12]) == [255, 255, 255, 255])
    #expect(histogram[10] == 4 && histogram[99] == 0, "padding past the width is not counted")
}

@Test("A flat plane stays as it is")
func flatPlaneIsUnchanged() {
    var histogram = [Int](repeating: 0, count: 256)
    histogram[77] = 50
    let table = histogram.withUnsafeBufferPointer { equalizationTable(histogram: $0.baseAddress!, total: 50) }
    #expect(table[77] == 77)
}
