// Camera controls (brightness, contrast, exposure, white balance, power-line frequency and
// whatever else a driver offers): listing them with their ranges and menus (QUERY_EXT_CTRL,
// QUERYCTRL, QUERYMENU), reading and setting them by name. Names are matched the way v4l2-ctl
// spells them ("White Balance Temperature" is white_balance_temperature), plus a few aliases so
// a config can say "exposure" whichever of the standard exposure controls a camera has.

internal import CV4L2
#if canImport(Glibc)
internal import Glibc
#endif

/// One control a device offers.
public struct V4L2ControlInfo: Sendable, Equatable, Codable {
    public var id: UInt32
    /// The name the driver gives, such as "White Balance Temperature".
    public var name: String
    /// The name to use on the command line and in the config, such as white_balance_temperature.
    public var key: String
    /// integer, boolean, menu, integer-menu, button, integer64, string, bitmask, compound.
    public var type: String
    public var minimum: Int64
    public var maximum: Int64
    public var step: UInt64
    public var defaultValue: Int64
    /// The current value; nil for buttons, write-only, compound and 64-bit controls.
    public var value: Int64?
    /// read-only, write-only, inactive, volatile, grabbed...
    public var flags: [String]
    /// For menu controls: the items the driver names (indexes it skips are absent).
    public var menu: [V4L2MenuItem]
}

public struct V4L2MenuItem: Sendable, Equatable, Codable {
    public var index: Int64
    /// For menus: the item's name. For integer menus: nil.
    public var name: String?
    /// For integer menus: the item's value. For menus: nil.
    public var value: Int64?
}

/// v4l2-ctl's control naming: lowercase letters and digits, any run of other characters one
/// underscore, none at either end.
public func v4l2ControlKey(_ name: String) -> String {
    var key = ""
    var pendingUnderscore = false
    for character in name.lowercased() {
        if character.isASCII && (character.isLetter || character.isNumber) {
            if pendingUnderscore { key.append("_") }
            pendingUnderscore = false
            key.append(character)
        } else if !key.isEmpty {
            pendingUnderscore = true
        }
    }
    return key
}

/// Names people and configs use for the common controls, mapped to the keys drivers use. UVC
/// cameras spell exposure and white balance differently across kernel versions.
let v4l2ControlAliases: [String: [String]] = [
    "exposure": ["exposure_time_absolute", "exposure_absolute", "exposure"],
    "auto_exposure": ["auto_exposure", "exposure_auto"],
    "white_balance": ["white_balance_temperature", "white_balance"],
    "auto_white_balance": ["white_balance_automatic", "white_balance_temperature_auto", "auto_white_balance"],
    "power_line_frequency": ["power_line_frequency"],
]

/// Finds a control by name or alias among `controls`.
public func findV4L2Control(named name: String, in controls: [V4L2ControlInfo]) -> V4L2ControlInfo? {
    let key = v4l2ControlKey(name)
    for candidate in v4l2ControlAliases[key] ?? [key] {
        if let control = controls.first(where: { $0.key == candidate }) { return control }
    }
    return controls.first(where: { $0.key == key })
}

/// Turns a textual value into the number S_CTRL takes, checking it against the control's type,
/// range and menu. Menu items may be given by name ("50 Hz", "50_hz") or by index.
public func parseV4L2ControlValue(_ text: String, for control: V4L2ControlInfo) -> Result<Int64, CaptureError> {
    let spec = "\(control.key)=\(text)"
    let trimmed = withoutSurroundingSpaces(text)
    switch control.type {
    case "button":
        return .success(1)
    case "boolean":
        switch trimmed.lowercased() {
        case "1", "true", "on", "yes": return .success(1)
        case "0", "false", "off", "no": return .success(0)
        default: return .failure(.invalidSpec(spec: spec, reason: "\(control.key) is a boolean: use 0 or 1 (or true/false)"))
        }
    case "menu":
        if let index = Int64(trimmed), control.menu.contains(where: { $0.index == index }) { return .success(index) }
        let wanted = v4l2ControlKey(trimmed)
        if let item = control.menu.first(where: { $0.name.map(v4l2ControlKey) == wanted }) { return .success(item.index) }
        let choices = control.menu.map { "\($0.index) (\($0.name ?? ""))" }.joined(separator: ", ")
        return .failure(.invalidSpec(spec: spec, reason: "\(control.key) is a menu: use one of \(choices)"))
    case "integer-menu":
        if let number = Int64(trimmed) {
            if let item = control.menu.first(where: { $0.value == number }) { return .success(item.index) }
            if control.menu.contains(where: { $0.index == number }) { return .success(number) }
        }
        let choices = control.menu.compactMap { $0.value.map(String.init) }.joined(separator: ", ")
        return .failure(.invalidSpec(spec: spec, reason: "\(control.key) takes one of \(choices)"))
    case "integer", "integer64":
        guard let number = Int64(trimmed) else {
            return .failure(.invalidSpec(spec: spec, reason: "\(control.key) takes an integer from \(control.minimum) to \(control.maximum)"))
        }
        guard (control.minimum...control.maximum).contains(number) else {
            return .failure(.invalidSpec(spec: spec, reason: "\(number) is outside \(control.key)'s range \(control.minimum) to \(control.maximum)"))
        }
        return .success(number)
    default:
        return .failure(.invalidSpec(spec: spec, reason: "\(control.key) is a \(control.type) control, which cannot be set from text"))
    }
}

private func withoutSurroundingSpaces(_ text: String) -> String {
    var text = Substring(text)
    while text.first?.isWhitespace == true { text.removeFirst() }
    while text.last?.isWhitespace == true { text.removeLast() }
    return String(text)
}

private func controlTypeName(_ type: UInt32) -> String {
    switch type {
    case V4L2_CTRL_TYPE_INTEGER.rawValue: "integer"
    case V4L2_CTRL_TYPE_BOOLEAN.rawValue: "boolean"
    case V4L2_CTRL_TYPE_MENU.rawValue: "menu"
    case V4L2_CTRL_TYPE_INTEGER_MENU.rawValue: "integer-menu"
    case V4L2_CTRL_TYPE_BUTTON.rawValue: "button"
    case V4L2_CTRL_TYPE_INTEGER64.rawValue: "integer64"
    case V4L2_CTRL_TYPE_STRING.rawValue: "string"
    case V4L2_CTRL_TYPE_BITMASK.rawValue: "bitmask"
    case V4L2_CTRL_TYPE_CTRL_CLASS.rawValue: "class"
    default: "compound"
    }
}

private let controlFlagNames: [(bit: UInt32, name: String)] = [
    (UInt32(truncatingIfNeeded: V4L2_CTRL_FLAG_READ_ONLY), "read-only"),
    (UInt32(truncatingIfNeeded: V4L2_CTRL_FLAG_WRITE_ONLY), "write-only"),
    (UInt32(truncatingIfNeeded: V4L2_CTRL_FLAG_INACTIVE), "inactive"),
    (UInt32(truncatingIfNeeded: V4L2_CTRL_FLAG_VOLATILE), "volatile"),
    (UInt32(truncatingIfNeeded: V4L2_CTRL_FLAG_GRABBED), "grabbed"),
    (UInt32(truncatingIfNeeded: V4L2_CTRL_FLAG_SLIDER), "slider"),
    (UInt32(truncatingIfNeeded: V4L2_CTRL_FLAG_EXECUTE_ON_WRITE), "execute-on-write"),
]

/// Lists the controls of an open device. Uses QUERY_EXT_CTRL (64-bit ranges, compound types)
/// and falls back to QUERYCTRL for drivers and libv4l2 versions that lack it.
func enumerateControls(_ handle: borrowing V4L2Handle) throws(CaptureError) -> [V4L2ControlInfo] {
    let next = UInt32(truncatingIfNeeded: V4L2_CTRL_FLAG_NEXT_CTRL)
    let nextCompound = UInt32(truncatingIfNeeded: V4L2_CTRL_FLAG_NEXT_COMPOUND)
    var raw: [(id: UInt32, name: String, type: UInt32, minimum: Int64, maximum: Int64, step: UInt64, defaultValue: Int64, flags: UInt32)] = []

    var query = v4l2_query_ext_ctrl()
    query.id = next | nextCompound
    var result = handle.performRaw(.queryExtendedControl, &query)
    if result == 0 {
        while result == 0 {
            raw.append((query.id, stringFromCharacterArray(query.name), query.type, query.minimum, query.maximum,
                        query.step, query.default_value, query.flags))
            let id = query.id
            query = v4l2_query_ext_ctrl()
            query.id = id | next | nextCompound
            result = handle.performRaw(.queryExtendedControl, &query)
        }
    } else if result == ENOTTY || result == EINVAL {
        var old = v4l2_queryctrl()
        old.id = next
        result = handle.performRaw(.queryControl, &old)
        while result == 0 {
            raw.append((old.id, stringFromCharacterArray(old.name), old.type, Int64(old.minimum), Int64(old.maximum),
                        UInt64(old.step), Int64(old.default_value), old.flags))
            let id = old.id
            old = v4l2_queryctrl()
            old.id = id | next
            result = handle.performRaw(.queryControl, &old)
        }
    }
    // The enumeration ends with EINVAL; ENOTTY means the device has no controls at all.
    if result != EINVAL && result != ENOTTY {
        throw .system(call: "VIDIOC_QUERY_EXT_CTRL", path: handle.path, errno: result)
    }

    var controls: [V4L2ControlInfo] = []
    for entry in raw {
        if entry.type == V4L2_CTRL_TYPE_CTRL_CLASS.rawValue { continue }
        if entry.flags & UInt32(truncatingIfNeeded: V4L2_CTRL_FLAG_DISABLED) != 0 { continue }
        let type = controlTypeName(entry.type)
        var menu: [V4L2MenuItem] = []
        if entry.type == V4L2_CTRL_TYPE_MENU.rawValue || entry.type == V4L2_CTRL_TYPE_INTEGER_MENU.rawValue,
           entry.minimum >= 0, entry.maximum >= entry.minimum, entry.maximum - entry.minimum < 256 {
            for index in entry.minimum...entry.maximum {
                var item = v4l2_querymenu()
                item.id = entry.id
                item.index = UInt32(index)
                // EINVAL marks an index the driver skips (a menu with holes).
                guard handle.performRaw(.queryMenu, &item) == 0 else { continue }
                if entry.type == V4L2_CTRL_TYPE_MENU.rawValue {
                    menu.append(V4L2MenuItem(index: index, name: stringFromCharacterArray(item.name), value: nil))
                } else {
                    menu.append(V4L2MenuItem(index: index, name: nil, value: item.value))
                }
            }
        }
        let readable = ["integer", "boolean", "menu", "integer-menu"].contains(type)
            && entry.flags & UInt32(truncatingIfNeeded: V4L2_CTRL_FLAG_WRITE_ONLY) == 0
        controls.append(V4L2ControlInfo(
            id: entry.id, name: entry.name, key: v4l2ControlKey(entry.name), type: type,
            minimum: entry.minimum, maximum: entry.maximum, step: entry.step, defaultValue: entry.defaultValue,
            value: readable ? try? readControl(handle, id: entry.id) : nil,
            flags: controlFlagNames.filter { entry.flags & $0.bit != 0 }.map(\.name),
            menu: menu))
    }
    return controls
}

func readControl(_ handle: borrowing V4L2Handle, id: UInt32) throws(CaptureError) -> Int64 {
    var control = v4l2_control()
    control.id = id
    try handle.perform(.getControl, &control)
    return Int64(control.value)
}

func writeControl(_ handle: borrowing V4L2Handle, id: UInt32, value: Int64) throws(CaptureError) {
    var control = v4l2_control()
    control.id = id
    control.value = Int32(truncatingIfNeeded: value)
    try handle.perform(.setControl, &control)
}

/// Looks a control up by name on an open device and sets it from text. Returns the value the
/// driver holds afterwards (drivers round to their step), or nil for buttons.
@discardableResult
func setControlByName(_ handle: borrowing V4L2Handle, named name: String, to text: String,
                controls known: [V4L2ControlInfo]? = nil) throws(CaptureError) -> Int64? {
    let controls: [V4L2ControlInfo]
    if let known { controls = known } else { controls = try enumerateControls(handle) }
    guard let control = findV4L2Control(named: name, in: controls) else {
        let keys = controls.map(\.key).joined(separator: ", ")
        throw .unsupported(path: handle.path, reason: "no control named '\(name)'; this device has: \(keys)")
    }
    if control.flags.contains("read-only") {
        throw .unsupported(path: handle.path, reason: "control \(control.key) is read-only")
    }
    let value = try parseV4L2ControlValue(text, for: control).get()
    try writeControl(handle, id: control.id, value: value)
    if control.type == "button" || control.flags.contains("write-only") { return nil }
    return try? readControl(handle, id: control.id)
}

/// A device opened only to list, read and set controls, for `obscura cameras` and for setting
/// controls while another process captures (V4L2 allows many opens of one node).
public struct V4L2DeviceControls: ~Copyable {
    private let handle: V4L2Handle

    public init(path: String) throws(CaptureError) {
        handle = try V4L2Handle(path: path)
    }

    public func list() throws(CaptureError) -> [V4L2ControlInfo] {
        try enumerateControls(handle)
    }

    /// The current value of a control, by name or alias.
    public func value(named name: String) throws(CaptureError) -> Int64 {
        let controls = try enumerateControls(handle)
        guard let control = findV4L2Control(named: name, in: controls) else {
            throw .unsupported(path: handle.path, reason: "no control named '\(name)'; this device has: \(controls.map(\.key).joined(separator: ", "))")
        }
        return try readControl(handle, id: control.id)
    }

    /// Sets a control by name or alias from text ("50 Hz", "1", "true"); returns the value the
    /// driver holds afterwards, or nil for buttons and write-only controls.
    @discardableResult
    public func set(named name: String, to value: String) throws(CaptureError) -> Int64? {
        try setControlByName(handle, named: name, to: value)
    }
}
