// The tracker's assignment solver against brute force over every permutation, on small random
// matrices with ties and zeros like the overlap matrices it is given.

import Testing
@testable import Analysis

@Suite("Tracker assignment solver")
struct TrackerAssignmentTests {
    /// Smallest total cost over all permutations, by Heap's algorithm.
    func bruteForce(_ costs: [[Double]]) -> Double {
        let size = costs.count
        var permutation = Array(0..<size)
        var best = Double.infinity
        func total() -> Double { (0..<size).reduce(0) { $0 + costs[$1][permutation[$1]] } }
        func generate(_ count: Int) {
            if count <= 1 {
                best = min(best, total())
                return
            }
            for index in 0..<count {
                generate(count - 1)
                permutation.swapAt(count % 2 == 0 ? index : 0, count - 1)
            }
        }
        generate(size)
        return best
    }

    @Test("the solver's assignment is a permutation with the brute-force minimum cost")
    func matchesBruteForce() {
        var generator = SeededGenerator(seed: 12345)
        var solver = AssignmentSolver()
        for trial in 0..<300 {
            let size = 1 + trial % 6
            var costs: [[Double]] = []
            for _ in 0..<size {
                // Negated overlaps in steps of 0.1, with many zeros (no candidate): ties abound.
                costs.append((0..<size).map { _ in
                    let step = Int.random(in: 0..<10, using: &generator)
                    return step < 4 ? 0 : -Double(step) / 10
                })
            }
            solver.reset(size: size)
            for row in 0..<size {
                for column in 0..<size { solver.setCost(row: row, column: column, costs[row][column]) }
            }
            solver.solve()
            let assignment = solver.columnOfRow
            #expect(Set(assignment).count == size, "trial \(trial): not a permutation")
            let total = (0..<size).reduce(0.0) { $0 + costs[$1][assignment[$1]] }
            #expect(abs(total - bruteForce(costs)) < 1e-9, "trial \(trial): \(costs)")
        }
    }
}

/// A fixed-seed generator (SplitMix64) so the random matrices are the same on every run.
private struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}
