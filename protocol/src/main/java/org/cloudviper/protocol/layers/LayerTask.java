package org.cloudviper.protocol.layers;

/**
 * One key of an expanded layer and the task Dask's layer builds for it.
 *
 * @param key  a tuple key as a List of its parts, or a str key as a String
 * @param task the legacy task (or plain value) of that key
 */
public record LayerTask(Object key, Py task) {
}
