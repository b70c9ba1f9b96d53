package org.cloudviper.protocol;

/**
 * A sub-object a message field holds in a form cheaper to keep than its frames, written out only
 * when a message carrying it is encoded (a scheduler keeps a million run specs and sends each once
 * or twice). {@link MessageCodec} encodes the {@link SubObject} {@link #materialize()} returns in
 * its place and releases it afterwards.
 */
public interface DeferredSubObject {
    /** A new sub-object, owned by the caller (refCnt 1); thread-safe. */
    SubObject materialize();
}
