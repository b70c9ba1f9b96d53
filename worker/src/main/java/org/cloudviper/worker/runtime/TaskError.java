package org.cloudviper.worker.runtime;

/**
 * A task's failure as this worker reports it: the text of the {@code RuntimeError} a Python client
 * re-raises (serialized when the message is sent, see {@link Serde#pythonException}).
 */
record TaskError(String text) {
}
