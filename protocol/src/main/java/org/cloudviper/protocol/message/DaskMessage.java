package org.cloudviper.protocol.message;

import java.util.Map;

/**
 * A Dask message cloudviper sends or receives, as one record. Its {@code encode} gives the msgpack
 * tree a peer of a {@link Generation} expects, fields in the order Dask's own peers write them (so
 * that a message captured from a Python peer re-encodes to the same bytes); the static
 * {@code decode} of its family reads the shapes of every generation.
 *
 * <p>Values are those of {@code MessageCodec}; sub-objects ({@code SubObject}) inside a decoded
 * record belong to the decoded message, and whoever keeps one beyond the message's handling
 * retains it.
 */
public interface DaskMessage {
    Map<String, Object> encode(Generation generation);
}
