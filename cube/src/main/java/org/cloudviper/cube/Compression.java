package org.cloudviper.cube;

import org.apache.arrow.vector.compression.CompressionUtil;

/** Buffer compression of the chunks a writer makes; readers take any of them (IPC says which). */
public enum Compression {
    NONE(CompressionUtil.CodecType.NO_COMPRESSION),
    LZ4_FRAME(CompressionUtil.CodecType.LZ4_FRAME),
    ZSTD(CompressionUtil.CodecType.ZSTD);

    final CompressionUtil.CodecType codec;

    Compression(CompressionUtil.CodecType codec) {
        this.codec = codec;
    }
}
