package org.cloudviper.worker.interop;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

import java.io.IOException;
import java.io.UncheckedIOException;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Skips without Python Dask, gives each test its own {@link DaskPeers}, adds their logs to failures. */
final class DaskPeersExtension implements BeforeEachCallback, ParameterResolver, TestExecutionExceptionHandler,
        AfterEachCallback {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(DaskPeersExtension.class);

    @Override
    public void beforeEach(ExtensionContext context) {
        String reason = DaskPeers.unavailableReason();
        assumeTrue(reason == null, () -> "interop tests skipped: " + reason);
        if (needsPyarrow(context)) {
            String why = DaskPeers.pyarrowUnavailableReason();
            assumeTrue(why == null, () -> "pyarrow interop tests skipped: " + why);
        }
    }

    private static boolean needsPyarrow(ExtensionContext context) {
        return context.getRequiredTestClass().isAnnotationPresent(PyarrowPeers.class);
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == DaskPeers.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return context.getStore(NS).getOrComputeIfAbsent(DaskPeers.class, k -> {
            try {
                String name = context.getRequiredTestClass().getSimpleName() + "."
                        + context.getRequiredTestMethod().getName();
                return needsPyarrow(context) ? DaskPeers.create(name, DaskPeers.pyarrowPython())
                        : DaskPeers.create(name);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, DaskPeers.class);
    }

    @Override
    public void handleTestExecutionException(ExtensionContext context, Throwable failure) throws Throwable {
        DaskPeers peers = context.getStore(NS).get(DaskPeers.class, DaskPeers.class);
        if (peers == null || failure instanceof TestAbortedException) {
            throw failure;
        }
        AssertionFailedError withLogs = new AssertionFailedError(failure + "\n\n" + peers.logTails(), failure);
        withLogs.setStackTrace(failure.getStackTrace());
        throw withLogs;
    }

    @Override
    public void afterEach(ExtensionContext context) {
        DaskPeers peers = context.getStore(NS).remove(DaskPeers.class, DaskPeers.class);
        if (peers != null) {
            peers.close();
        }
    }
}
