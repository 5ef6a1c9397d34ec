// Invariant 2 for the sinks: no public (or package) declaration in Sources/Sinks takes or exposes
// a raw `Frame`, its buffer or its pool, so the only pixels a sink can be handed are a
// RedactedFrame's. Swift cannot test that a call does not compile, so this reads the sources, as
// the RedactedFrame test in Tests/RedactionTests does.

import Foundation
import Testing

@Suite struct SinkAPITests {
    /// The module's Swift files with comments removed.
    private func sinkSources() throws -> [(name: String, code: String)] {
        let folder = sinkPackageRoot.appendingPathComponent("Sources/Sinks")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".swift") }.sorted()
        return try names.map { name in
            let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            let code = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> Substring in
                guard let comment = line.range(of: "//") else { return line }
                return line[..<comment.lowerBound]
            }.joined(separator: "\n")
            return (name, code)
        }
    }

    /// Each public or package declaration, from its keyword to the `{` or `=` that ends its
    /// signature (parameters may span lines).
    private func publicSignatures(_ code: String) -> [String] {
        var signatures: [String] = []
        var searchStart = code.startIndex
        while let match = code.range(of: #"\b(public|package|open)\b"#, options: .regularExpression, range: searchStart..<code.endIndex) {
            var end = match.upperBound
            var depth = 0
            // An import ends with its line.
            let isImport = code[match.upperBound...].hasPrefix(" import ")
            while end < code.endIndex {
                let character = code[end]
                if character == "(" { depth += 1 }
                if character == ")" { depth -= 1 }
                if depth == 0 && (character == "{" || character == "=") { break }
                if isImport && character == "\n" { break }
                end = code.index(after: end)
            }
            signatures.append(String(code[match.lowerBound..<end]))
            searchStart = end
        }
        return signatures
    }

    @Test func noPublicAPITakesARawFrame() throws {
        let sources = try sinkSources()
        #expect(sources.count >= 6, "expected the sink sources, found \(sources.map(\.name))")
        // `Frame` as a whole word (so `RedactedFrame` is fine), and the pool or buffer that would
        // hand one over.
        let forbidden = #"(?<![A-Za-z0-9_])(Frame|FrameBuffer|FramePool)(?![A-Za-z0-9_])"#
        var checked = 0
        for source in sources {
            for signature in publicSignatures(source.code) {
                checked += 1
                #expect(signature.range(of: forbidden, options: .regularExpression) == nil,
                        "\(source.name): public API mentions a raw frame: \(signature)")
            }
            #expect(!source.code.contains("extension Frame"), "\(source.name) extends Frame")
            #expect(!source.code.contains("@testable"), "\(source.name)")
        }
        #expect(checked > 40, "found only \(checked) public declarations: the scan is not reading the sources")
        // The scan must catch what it looks for: a signature written as a leak would be.
        let leak = publicSignatures("public func write(_ frame: borrowing Frame) throws {")
        #expect(leak.count == 1 && leak[0].range(of: forbidden, options: .regularExpression) != nil)
        let fine = publicSignatures("public func write(_ frame: borrowing RedactedFrame) throws(SinkError) {")
        #expect(fine.count == 1 && fine[0].range(of: forbidden, options: .regularExpression) == nil)
    }

    @Test func everyWriteTakesARedactedFrame() throws {
        var writes = 0
        for source in try sinkSources() {
            for signature in publicSignatures(source.code) where signature.contains("func write(") {
                writes += 1
                #expect(signature.contains("_ frame: borrowing RedactedFrame"), "\(source.name): \(signature)")
            }
        }
        // One per writer (the protocol's requirement has no access keyword; it is checked here).
        #expect(writes >= 5)
        let protocolSource = try #require(try sinkSources().first { $0.name == "RedactedSink.swift" })
        #expect(protocolSource.code.contains("func write(_ frame: borrowing RedactedFrame) throws(SinkError)"))
    }
}
