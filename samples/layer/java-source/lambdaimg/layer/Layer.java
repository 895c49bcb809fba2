package lambdaimg.layer;

/** Part of lambdaimg's sample layer, loaded from a jar in /opt/java/lib. */
public final class Layer {
    private Layer() {}

    /** A method, not a constant: a constant would be copied into the caller. */
    public static String name() {
        return "lambdaimg sample layer (java)";
    }
}
