// Integral images of an 8-bit plane (sum, squared sum, 45-degree tilted sum) laid out as OpenCV's
// `integral()` lays them out, for the cascade detector: a fast row kernel and a scalar reference.
//
// All three are `(width + 1) x (height + 1)` with a zero first row and column. Values are 32-bit
// and wrap on overflow, as OpenCV's CV_32S buffers do: the squared sum of a whole 640x480 frame
// does not fit in 31 bits, but every difference of four corners over a detector window does, and
// wrapping arithmetic keeps those differences exact.

/// Where the integral images go. Each pointer addresses row 0, column 0 of a
/// `(width + 1) x (height + 1)` plane with `stride` elements per row.
public struct IntegralPlanes {
    public var sum: UnsafeMutablePointer<Int32>
    /// Sum of squared samples, or nil when not wanted.
    public var squaredSum: UnsafeMutablePointer<Int32>?
    /// Tilted (rotated 45 degrees) sum, or nil when not wanted.
    public var tilted: UnsafeMutablePointer<Int32>?
    /// Elements (not bytes) from one row to the next; at least `width + 1`.
    public var stride: Int

    public init(sum: UnsafeMutablePointer<Int32>, squaredSum: UnsafeMutablePointer<Int32>?,
                tilted: UnsafeMutablePointer<Int32>?, stride: Int) {
        self.sum = sum
        self.squaredSum = squaredSum
        self.tilted = tilted
        self.stride = stride
    }
}

/// Scratch elements `computeIntegralImages` needs for the tilted sum of a plane `width` wide.
public func integralTiltedScratchCount(width: Int) -> Int { 5 * (width + 2) }

/// Computes the integral images of an 8-bit plane.
///
/// - `sum[Y][X]` is the sum of `source[y][x]` for `y < Y`, `x < X`.
/// - `squaredSum` is the same over squared samples.
/// - `tilted[Y][X]` is the sum of `source[y][x]` for `y < Y` and `|x - X + 1| <= Y - y - 1`: the
///   triangle whose apex is pixel `(X - 1, Y - 1)`, opening upwards.
///
/// The tilted sum is computed as the difference of two running diagonal sums of row prefixes,
/// `U(X, Y) = U(X + 1, Y - 1) + P_{Y-1}(X)` and `V(X, Y) = V(X - 1, Y - 1) + P_{Y-1}(X - 1)`, where
/// `P_y(c)` is the sum of row `y` left of column `c` (clamped to the row). That needs only the
/// previous row, so it runs in one pass. `scratch` must hold `integralTiltedScratchCount(width:)`
/// elements when `tilted` is wanted.
public func computeIntegralImages(
    source: UnsafePointer<UInt8>, sourceStride: Int, width: Int, height: Int,
    into planes: IntegralPlanes, scratch: UnsafeMutablePointer<Int32>? = nil
) {
    let stride = planes.stride
    precondition(width >= 0 && height >= 0 && stride >= width + 1, "integral plane too narrow")
    let sum = planes.sum
    sum.update(repeating: 0, count: width + 1)
    if let squared = planes.squaredSum { squared.update(repeating: 0, count: width + 1) }
    if let tilted = planes.tilted { tilted.update(repeating: 0, count: width + 1) }

    // Tilted scratch: prefix row P (width + 2), U and V for the previous and current row.
    let span = width + 2
    var prefix: UnsafeMutablePointer<Int32>? = nil
    var previousU: UnsafeMutablePointer<Int32>? = nil
    var currentU: UnsafeMutablePointer<Int32>? = nil
    var previousV: UnsafeMutablePointer<Int32>? = nil
    var currentV: UnsafeMutablePointer<Int32>? = nil
    if planes.tilted != nil {
        guard let scratch else { preconditionFailure("tilted integral needs scratch space") }
        prefix = scratch
        previousU = scratch + span
        currentU = scratch + 2 * span
        previousV = scratch + 3 * span
        currentV = scratch + 4 * span
        previousU!.update(repeating: 0, count: span)
        previousV!.update(repeating: 0, count: span)
    }

    for y in 0..<height {
        let row = source + y * sourceStride
        let above = sum + y * stride
        let out = above + stride
        out[0] = 0
        var running: Int32 = 0
        if let squaredBase = planes.squaredSum {
            let squaredAbove = squaredBase + y * stride
            let squaredOut = squaredAbove + stride
            squaredOut[0] = 0
            var squaredRunning: Int32 = 0
            for x in 0..<width {
                let value = Int32(row[x])
                running &+= value
                squaredRunning &+= value &* value
                out[x + 1] = above[x + 1] &+ running
                squaredOut[x + 1] = squaredAbove[x + 1] &+ squaredRunning
            }
        } else {
            for x in 0..<width {
                running &+= Int32(row[x])
                out[x + 1] = above[x + 1] &+ running
            }
        }

        if let tiltedBase = planes.tilted {
            let p = prefix!, u0 = previousU!, u1 = currentU!, v0 = previousV!, v1 = currentV!
            // P(c) for c in 0...width: the row prefix; P(width + 1) clamps to the row total.
            var acc: Int32 = 0
            p[0] = 0
            for x in 0..<width {
                acc &+= Int32(row[x])
                p[x + 1] = acc
            }
            p[width + 1] = acc
            // U(X) for X beyond width equals the plain sum of the rows so far, which is what
            // u0[width + 1] holds (it is refreshed below).
            let tiltedOut = tiltedBase + (y + 1) * stride
            for x in 0...width {
                let u = u0[x + 1] &+ p[x]
                let v = (x == 0 ? 0 : v0[x - 1] &+ p[x - 1])
                u1[x] = u
                v1[x] = v
                tiltedOut[x] = u &- v
            }
            u1[width + 1] = out[width]
            v1[width + 1] = 0
            // Swap rows.
            previousU = u1; currentU = u0
            previousV = v1; currentV = v0
        }
    }
}

/// Plain reference for `computeIntegralImages`: each value from its definition. Quadratic per
/// element; for tests on small planes only.
public func computeIntegralImagesReference(
    source: UnsafePointer<UInt8>, sourceStride: Int, width: Int, height: Int, into planes: IntegralPlanes
) {
    let stride = planes.stride
    for bigY in 0...height {
        for bigX in 0...width {
            var plain: Int64 = 0
            var squared: Int64 = 0
            var tilted: Int64 = 0
            for y in 0..<bigY {
                for x in 0..<width {
                    let value = Int64(source[y * sourceStride + x])
                    if x < bigX {
                        plain += value
                        squared += value * value
                    }
                    if abs(x - bigX + 1) <= bigY - y - 1 { tilted += value }
                }
            }
            let index = bigY * stride + bigX
            planes.sum[index] = Int32(truncatingIfNeeded: plain)
            planes.squaredSum?[index] = Int32(truncatingIfNeeded: squared)
            planes.tilted?[index] = Int32(truncatingIfNeeded: tilted)
        }
    }
}
