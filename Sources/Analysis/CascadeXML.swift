// A small XML reader for OpenCV's cascade files: elements, attributes, character data and
// comments, into a tree. Enough for `opencv_storage` files; not a general XML parser (no DTDs,
// no namespaces). Kept here rather than using FoundationXML so Analysis depends on nothing.

/// One XML element and what it contains.
struct XMLElement {
    var name: String
    var attributes: [(name: String, value: String)] = []
    var children: [XMLElement] = []
    /// Character data directly inside this element, concatenated.
    var text: String = ""
    /// Line (1-based) of the start tag, for error messages.
    var line: Int

    init(name: String, line: Int) {
        self.name = name
        self.line = line
    }

    /// The first child element with this name.
    func child(_ name: String) -> XMLElement? {
        children.first { $0.name == name }
    }

    func attribute(_ name: String) -> String? {
        attributes.first { $0.name == name }?.value
    }

    /// Whitespace-separated tokens of the character data.
    var tokens: [Substring] {
        // Split on scalars, not Characters: "\r\n" is one Character in Swift.
        text.unicodeScalars.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" })
            .map { Substring($0) }
    }
}

/// Why a document could not be read as XML.
struct XMLSyntaxError: Error {
    var line: Int
    var message: String
}

/// Parses a whole document and returns its root element.
func parseXMLDocument(_ bytes: [UInt8]) throws(XMLSyntaxError) -> XMLElement {
    var parser = XMLReader(bytes: bytes)
    return try parser.document()
}

private struct XMLReader {
    let bytes: [UInt8]
    var position = 0
    var line = 1

    init(bytes: [UInt8]) {
        self.bytes = bytes
        // Skip a UTF-8 byte order mark.
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { position = 3 }
    }

    private var atEnd: Bool { position >= bytes.count }

    private func peek(_ offset: Int = 0) -> UInt8? {
        position + offset < bytes.count ? bytes[position + offset] : nil
    }

    private func starts(with literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count else { return false }
        return literal.withUTF8Buffer { buffer in
            for index in 0..<count where bytes[position + index] != buffer[index] { return false }
            return true
        }
    }

    private mutating func advance(_ count: Int = 1) {
        for _ in 0..<count where position < bytes.count {
            if bytes[position] == UInt8(ascii: "\n") { line += 1 }
            position += 1
        }
    }

    /// Skips to just past `terminator`, or fails with `what` if the document ends first.
    private mutating func skip(past terminator: StaticString, what: String) throws(XMLSyntaxError) {
        let startLine = line
        while !atEnd {
            if starts(with: terminator) {
                advance(terminator.utf8CodeUnitCount)
                return
            }
            advance()
        }
        throw XMLSyntaxError(line: startLine, message: "unterminated \(what) (truncated?)")
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x09 || byte == 0x0D
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"),
             UInt8(ascii: "."), UInt8(ascii: ":"): true
        default: byte >= 0x80
        }
    }

    private mutating func skipSpace() {
        while let byte = peek(), Self.isSpace(byte) { advance() }
    }

    private mutating func name() throws(XMLSyntaxError) -> String {
        let start = position
        while let byte = peek(), Self.isNameByte(byte) { advance() }
        guard position > start else {
            let found = peek().map { "'\(Character(Unicode.Scalar($0)))'" } ?? "end of file"
            throw XMLSyntaxError(line: line, message: "expected a name, found \(found)")
        }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    /// Decodes the five predefined entities and numeric character references.
    private func decodeEntities(_ raw: ArraySlice<UInt8>) throws(XMLSyntaxError) -> String {
        guard raw.contains(UInt8(ascii: "&")) else { return String(decoding: raw, as: UTF8.self) }
        var out = ""
        var index = raw.startIndex
        while index < raw.endIndex {
            let byte = raw[index]
            if byte != UInt8(ascii: "&") {
                var end = index
                while end < raw.endIndex && raw[end] != UInt8(ascii: "&") { end += 1 }
                out += String(decoding: raw[index..<end], as: UTF8.self)
                index = end
                continue
            }
            guard let semicolon = raw[index...].firstIndex(of: UInt8(ascii: ";")), semicolon - index <= 10 else {
                throw XMLSyntaxError(line: line, message: "unterminated entity reference")
            }
            let entity = String(decoding: raw[(index + 1)..<semicolon], as: UTF8.self)
            switch entity {
            case "lt": out += "<"
            case "gt": out += ">"
            case "amp": out += "&"
            case "quot": out += "\""
            case "apos": out += "'"
            default:
                var scalarValue: UInt32?
                if entity.hasPrefix("#x") { scalarValue = UInt32(entity.dropFirst(2), radix: 16) }
                else if entity.hasPrefix("#") { scalarValue = UInt32(entity.dropFirst(1)) }
                guard let value = scalarValue, let scalar = Unicode.Scalar(value) else {
                    throw XMLSyntaxError(line: line, message: "unknown entity '&\(entity);'")
                }
                out.unicodeScalars.append(scalar)
            }
            index = semicolon + 1
        }
        return out
    }

    mutating func document() throws(XMLSyntaxError) -> XMLElement {
        var stack: [XMLElement] = []
        var root: XMLElement?
        while true {
            // Character data up to the next '<'.
            let textStart = position
            let textLine = line
            while let byte = peek(), byte != UInt8(ascii: "<") { advance() }
            if position > textStart {
                let raw = bytes[textStart..<position]
                if stack.isEmpty {
                    if let offset = raw.firstIndex(where: { !Self.isSpace($0) }) {
                        let badLine = textLine + raw[..<offset].count(where: { $0 == UInt8(ascii: "\n") })
                        throw XMLSyntaxError(line: badLine, message: "text outside the root element (not an XML file?)")
                    }
                } else {
                    stack[stack.count - 1].text += try decodeEntities(raw)
                }
            }
            if atEnd { break }
            if starts(with: "<!--") {
                advance(4)
                try skip(past: "-->", what: "comment")
            } else if starts(with: "<?") {
                advance(2)
                try skip(past: "?>", what: "processing instruction")
            } else if starts(with: "<![CDATA[") {
                advance(9)
                let start = position
                try skip(past: "]]>", what: "CDATA section")
                guard !stack.isEmpty else { throw XMLSyntaxError(line: line, message: "CDATA outside the root element") }
                stack[stack.count - 1].text += String(decoding: bytes[start..<(position - 3)], as: UTF8.self)
            } else if starts(with: "<!") {
                advance(2)
                try skip(past: ">", what: "declaration")
            } else if starts(with: "</") {
                advance(2)
                let closing = try name()
                skipSpace()
                guard peek() == UInt8(ascii: ">") else { throw XMLSyntaxError(line: line, message: "expected '>' after </\(closing)") }
                advance()
                guard let open = stack.popLast() else {
                    throw XMLSyntaxError(line: line, message: "closing tag </\(closing)> without an open element")
                }
                guard open.name == closing else {
                    throw XMLSyntaxError(line: line, message: "closing tag </\(closing)> does not match <\(open.name)> opened on line \(open.line)")
                }
                if stack.isEmpty {
                    guard root == nil else { throw XMLSyntaxError(line: open.line, message: "more than one root element") }
                    root = open
                } else {
                    stack[stack.count - 1].children.append(open)
                }
            } else {
                advance() // '<'
                let startLine = line
                var element = XMLElement(name: try name(), line: startLine)
                var selfClosing = false
                while true {
                    skipSpace()
                    guard let byte = peek() else {
                        throw XMLSyntaxError(line: startLine, message: "unterminated start tag <\(element.name) (truncated?)")
                    }
                    if byte == UInt8(ascii: ">") { advance(); break }
                    if byte == UInt8(ascii: "/") && peek(1) == UInt8(ascii: ">") { advance(2); selfClosing = true; break }
                    let attributeName = try name()
                    skipSpace()
                    guard peek() == UInt8(ascii: "=") else {
                        throw XMLSyntaxError(line: line, message: "expected '=' after attribute \(attributeName)")
                    }
                    advance()
                    skipSpace()
                    guard let quote = peek(), quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") else {
                        throw XMLSyntaxError(line: line, message: "expected a quoted value for attribute \(attributeName)")
                    }
                    advance()
                    let valueStart = position
                    while let next = peek(), next != quote { advance() }
                    guard !atEnd else { throw XMLSyntaxError(line: startLine, message: "unterminated attribute value") }
                    let value = try decodeEntities(bytes[valueStart..<position])
                    advance()
                    element.attributes.append((attributeName, value))
                }
                if selfClosing {
                    if stack.isEmpty {
                        guard root == nil else { throw XMLSyntaxError(line: startLine, message: "more than one root element") }
                        root = element
                    } else {
                        stack[stack.count - 1].children.append(element)
                    }
                } else {
                    if stack.isEmpty && root != nil {
                        throw XMLSyntaxError(line: startLine, message: "more than one root element")
                    }
                    stack.append(element)
                }
            }
        }
        if let open = stack.last {
            throw XMLSyntaxError(line: line, message: "file ends inside <\(open.name)> opened on line \(open.line) (truncated?)")
        }
        guard let root else { throw XMLSyntaxError(line: line, message: "no XML element found") }
        return root
    }
}
