package org.cloudviper.protocol.pickle;

/**
 * A well-formed graph that cloudviper cannot turn into per-task pickles without running Python:
 * a layer class cloudviper does not expand (e.g. a P2P shuffle of {@code distributed.shuffle}) or
 * a layer state beyond its limits, a {@code client.map} keyword argument Dask would turn into a
 * DataNode, a legacy task whose meaning depends on Python semantics we cannot decide symbolically.
 * The message says what and how to avoid it; the scheduler reports it to the client as the
 * error of every key of the graph.
 */
public class UnsupportedGraphException extends PickleException {
    public UnsupportedGraphException(String message) {
        super(message);
    }
}
