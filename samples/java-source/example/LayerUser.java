package example;

/** Uses the sample layer's class, which is not on the compile-time classpath of the rest. */
final class LayerUser {
    private LayerUser() {}

    static String layerName() {
        return lambdaimg.layer.Layer.name();
    }
}
