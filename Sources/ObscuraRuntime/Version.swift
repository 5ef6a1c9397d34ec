// The release version, printed by `obscura version` and `--version`.

public enum ObscuraVersion {
    public static let current = "0.1.0"
}
