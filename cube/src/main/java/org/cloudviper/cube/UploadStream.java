package org.cloudviper.cube;

import java.io.OutputStream;

/**
 * The bytes of an object being written ({@link ObjectStore#write}): {@link #close()} makes the
 * object appear whole, {@link #abort()} drops what was written and leaves no object behind.
 */
public abstract class UploadStream extends OutputStream {
    /** Drops the upload; the object is not created (an existing one of that key is left as it was). */
    public abstract void abort();
}
