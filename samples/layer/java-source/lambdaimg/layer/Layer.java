package lambdaimg.layer;

/** Part of lambdaimg's sample layer, loaded from a jar in /opt/java/lib. */
public final class Layer {
    public static final String NAME = "lambdaimg sample layer (java)";

    private Layer() {}
}
