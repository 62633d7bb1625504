/// Herald's version, as `herald --version` prints it.
public enum HeraldVersion {
    public static let current = "0.9.0"
}
