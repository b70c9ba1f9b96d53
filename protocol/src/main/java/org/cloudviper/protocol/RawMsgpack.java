package org.cloudviper.protocol;

/**
 * Bytes that are already one msgpack value; the encoder splices them in unchanged. Used for values
 * sent many times (cached replies) so they are packed once.
 */
public record RawMsgpack(byte[] bytes) {
}
