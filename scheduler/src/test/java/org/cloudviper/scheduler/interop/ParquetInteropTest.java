package org.cloudviper.scheduler.interop;

import org.cloudviper.testkit.DaskInterop;
import org.cloudviper.testkit.InteropTest;
import org.cloudviper.testkit.PythonPeers;
import org.cloudviper.testkit.ScriptResult;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertAll;

/**
 * {@code dask.dataframe.read_parquet} (a DataFrameIOLayer reading through pyarrow) and
 * {@code to_parquet} (a Blockwise write with a BlockIndex input, optimized and not) computed through
 * the scheduler under test, against pandas. Needs pyarrow: 2022.12.1 runs from its venv, and the
 * 2024.12.1 root has none, so that run is skipped.
 */
@DaskInterop(pyarrow = true)
class ParquetInteropTest {

    @InteropTest
    void readParquet(PythonPeers peers) throws Exception {
        InteropScheduler scheduler = InteropScheduler.start(peers);
        scheduler.startWorkers(peers, 2, 1, false);

        ScriptResult r = peers.runClient("parquet.py", scheduler.address(), peers.inPython(peers.scratchDir("parquet")));

        assertAll(LayersInteropTest.equalParts(r, List.of("read_parquet", "to_parquet", "to_parquet_unopt")));
    }
}
