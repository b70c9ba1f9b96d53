package org.cloudviper.protocol.layers;

/**
 * A layer that cannot be expanded: malformed or inconsistent state, a layer class or option
 * cloudviper does not expand, or a size beyond {@link LayerLimits}. The message names the layer and
 * says why; the scheduler reports it as the error of every key the client asked for.
 */
public class LayerException extends RuntimeException {
    public LayerException(String message) {
        super(message);
    }

    /** "{@code what}: {@code n} (expected: <= {@code max})", as the codecs report limits. */
    public static LayerException limit(String layer, String what, long n, long max) {
        return new LayerException("graph layer " + layer + ": " + what + ": " + n + " (expected: <= " + max + ")");
    }
}
