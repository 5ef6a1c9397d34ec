// A checked reader over YAML documents, shared by board profiles and the config file, so that
// every invalid value is reported the same way: the file, the line, the key path and the reason.

public import Yams

/// An error in a settings file (a board profile or the config), naming where and why.
public struct SettingsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file being read.
    public var file: String
    /// 1-based line of the offending value, when known.
    public var line: Int?
    /// Dotted key path, e.g. `cameraModes[1].fps`; empty for the whole document.
    public var key: String
    /// What is wrong and, where it helps, what to write instead.
    public var reason: String

    public init(file: String, line: Int? = nil, key: String, reason: String) {
        self.file = file
        self.line = line
        self.key = key
        self.reason = reason
    }

    public var description: String {
        let place = line.map { "\(file):\($0)" } ?? file
        return key.isEmpty ? "\(place): \(reason)" : "\(place): key '\(key)': \(reason)"
    }
}

/// A YAML mapping being read, with the path that led to it.
public struct SettingsMapping {
    public let file: String
    public let path: String
    let node: Node
    let pairs: [(key: String, value: Node)]

    /// Parses `text` (the contents of `file`) and returns its top-level mapping.
    public static func parse(_ text: String, file: String) throws(SettingsError) -> SettingsMapping {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw SettingsError(file: file, line: yamlLine(error), key: "", reason: "not valid YAML: \(yamlProblem(error))")
        } catch {
            throw SettingsError(file: file, key: "", reason: "not valid YAML: \(error)")
        }
        guard let root else {
            throw SettingsError(file: file, key: "", reason: "the file is empty")
        }
        return try SettingsMapping(node: root, file: file, path: "")
    }

    init(node: Node, file: String, path: String) throws(SettingsError) {
        guard case .mapping(let mapping) = node else {
            throw SettingsError(file: file, line: node.mark?.line, key: path,
                                reason: "expected a mapping of keys to values, found \(kindName(node))")
        }
        var pairs: [(String, Node)] = []
        for (key, value) in mapping {
            guard let name = key.string else {
                throw SettingsError(file: file, line: key.mark?.line, key: path, reason: "keys must be plain strings")
            }
            pairs.append((name, value))
        }
        self.node = node
        self.file = file
        self.path = path
        self.pairs = pairs
    }

    public func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    public var line: Int? { node.mark?.line }

    public func value(_ key: String) -> Node? {
        pairs.first { $0.key == key }?.value
    }

    public func contains(_ key: String) -> Bool { value(key) != nil }

    func error(_ key: String, _ node: Node?, _ reason: String) -> SettingsError {
        SettingsError(file: file, line: node?.mark?.line ?? line, key: keyPath(key), reason: reason)
    }

    /// Rejects keys not in `allowed`, so a typo is an error rather than a silently ignored line.
    public func rejectUnknownKeys(_ allowed: Set<String>) throws(SettingsError) {
        for pair in pairs where !allowed.contains(pair.key) {
            throw SettingsError(file: file, line: pair.value.mark?.line, key: keyPath(pair.key),
                                reason: "unknown key; expected one of: \(allowed.sorted().joined(separator: ", "))")
        }
    }

    func required(_ key: String) throws(SettingsError) -> Node {
        guard let node = value(key) else { throw error(key, nil, "missing (required)") }
        return node
    }

    public func string(_ key: String) throws(SettingsError) -> String {
        let node = try required(key)
        guard case .scalar(let scalar) = node, !scalar.string.isEmpty else {
            throw error(key, node, "expected a non-empty string, found \(kindName(node))")
        }
        return scalar.string
    }

    public func optionalString(_ key: String) throws(SettingsError) -> String? {
        guard contains(key) else { return nil }
        return try string(key)
    }

    public func int(_ key: String, in range: ClosedRange<Int>) throws(SettingsError) -> Int {
        let node = try required(key)
        guard let value = node.int else {
            throw error(key, node, "expected a whole number, found '\(node.string ?? kindName(node))'")
        }
        guard range.contains(value) else {
            throw error(key, node, "\(value) is out of range \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    public func optionalInt(_ key: String, in range: ClosedRange<Int>) throws(SettingsError) -> Int? {
        guard contains(key) else { return nil }
        return try int(key, in: range)
    }

    public func double(_ key: String, in range: ClosedRange<Double>) throws(SettingsError) -> Double {
        let node = try required(key)
        guard let value = node.float, value.isFinite else {
            throw error(key, node, "expected a number, found '\(node.string ?? kindName(node))'")
        }
        guard range.contains(value) else {
            throw error(key, node, "\(value) is out of range \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    public func optionalDouble(_ key: String, in range: ClosedRange<Double>) throws(SettingsError) -> Double? {
        guard contains(key) else { return nil }
        return try double(key, in: range)
    }

    public func bool(_ key: String) throws(SettingsError) -> Bool {
        let node = try required(key)
        guard let value = node.bool else {
            throw error(key, node, "expected true or false, found '\(node.string ?? kindName(node))'")
        }
        return value
    }

    public func optionalBool(_ key: String) throws(SettingsError) -> Bool? {
        guard contains(key) else { return nil }
        return try bool(key)
    }

    public func mapping(_ key: String) throws(SettingsError) -> SettingsMapping {
        try SettingsMapping(node: required(key), file: file, path: keyPath(key))
    }

    public func optionalMapping(_ key: String) throws(SettingsError) -> SettingsMapping? {
        guard contains(key) else { return nil }
        return try mapping(key)
    }

    /// The items of a sequence of mappings, each with its index in the key path.
    public func mappings(_ key: String) throws(SettingsError) -> [SettingsMapping] {
        let node = try required(key)
        guard case .sequence(let sequence) = node else {
            throw error(key, node, "expected a list, found \(kindName(node))")
        }
        var result: [SettingsMapping] = []
        for (index, item) in sequence.enumerated() {
            result.append(try SettingsMapping(node: item, file: file, path: "\(keyPath(key))[\(index)]"))
        }
        return result
    }

    /// Every key of this mapping with its single value as text, in file order (for open-ended
    /// mappings such as camera controls, whose names the device decides).
    public func scalarPairs() throws(SettingsError) -> [(name: String, value: String)] {
        var result: [(name: String, value: String)] = []
        for pair in pairs {
            guard case .scalar(let scalar) = pair.value, !scalar.string.isEmpty else {
                throw error(pair.key, pair.value, "expected a single value, found \(kindName(pair.value))")
            }
            result.append((pair.key, scalar.string))
        }
        return result
    }

    /// A list of numbers (`[1, 2]`) as one list, or a list of such lists (`[[1, 2], [3, 4]]`).
    public func numberLists(_ key: String) throws(SettingsError) -> [[Double]] {
        let node = try required(key)
        guard case .sequence(let sequence) = node else {
            throw error(key, node, "expected a list of numbers, found \(kindName(node))")
        }
        func numbers(_ items: [Node]) throws(SettingsError) -> [Double] {
            var result: [Double] = []
            for item in items {
                guard let number = item.float, number.isFinite else {
                    throw error(key, item, "expected a number, found '\(item.string ?? kindName(item))'")
                }
                result.append(number)
            }
            return result
        }
        let items = Array(sequence)
        if items.allSatisfy({ if case .sequence = $0 { true } else { false } }) && !items.isEmpty {
            var lists: [[Double]] = []
            for item in items {
                guard case .sequence(let inner) = item else { continue }
                lists.append(try numbers(Array(inner)))
            }
            return lists
        }
        return [try numbers(items)]
    }

    /// The items of a sequence of scalars, as strings.
    public func strings(_ key: String) throws(SettingsError) -> [String] {
        let node = try required(key)
        guard case .sequence(let sequence) = node else {
            throw error(key, node, "expected a list, found \(kindName(node))")
        }
        var result: [String] = []
        for item in sequence {
            guard case .scalar(let scalar) = item else {
                throw error(key, item, "expected a list of values, found \(kindName(item)) in it")
            }
            result.append(scalar.string)
        }
        return result
    }
}

func kindName(_ node: Node) -> String {
    switch node {
    case .scalar(let scalar): scalar.string.isEmpty ? "an empty value" : "a single value"
    case .mapping: "a mapping"
    case .sequence: "a list"
    case .alias: "an alias"
    }
}

private func yamlLine(_ error: YamlError) -> Int? {
    switch error {
    case let .scanner(_, _, mark, _), let .parser(_, _, mark, _), let .composer(_, _, mark, _):
        mark.line
    default:
        nil
    }
}

private func yamlProblem(_ error: YamlError) -> String {
    switch error {
    case let .scanner(_, problem, _, _), let .parser(_, problem, _, _), let .composer(_, problem, _, _):
        problem
    default:
        "\(error)"
    }
}
