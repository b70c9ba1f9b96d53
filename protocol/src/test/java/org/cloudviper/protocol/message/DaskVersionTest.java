package org.cloudviper.protocol.message;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DaskVersionTest {

    @ParameterizedTest
    @CsvSource({
            "2022.12.1, 2022, 12, 1, DASK_2022",
            "2022.12.1+ds.1, 2022, 12, 1, DASK_2022",
            "2022.11.0, 2022, 11, 0, DASK_2022",
            "2022.10.2, 2022, 10, 2, ",
            "2023.1.0, 2023, 1, 0, ",
            "2023.3.2, 2023, 3, 2, ",
            "2023.4.0, 2023, 4, 0, ",
            "2023.9.3, 2023, 9, 3, ",
            "2023.10.0, 2023, 10, 0, DASK_2024_1",
            "2024.1.1, 2024, 1, 1, DASK_2024_1",
            // a release candidate without a patch number: one reading everywhere (the scheduler once cut
            // at the first '.', the worker at the first non-digit, and disagreed on this one)
            "2024.1rc1, 2024, 1, 0, DASK_2024_1",
            "2024.7.0, 2024, 7, 0, DASK_2024_1",
            "2024.7.1, 2024, 7, 1, ",
            "2024.11.2, 2024, 11, 2, ",
            "2024.12.0, 2024, 12, 0, DASK_2024",
            "2024.12.1.dev3+g1a2b3c, 2024, 12, 1, DASK_2024",
            "2025.1.0, 2025, 1, 0, ",
            "2021.1.1, 2021, 1, 1, ",
            "2027.1.0, 2027, 1, 0, ",
    })
    void parsesEveryReleaseSpellingAndFindsItsLine(String text, int year, int month, int patch, Generation g) {
        DaskVersion v = DaskVersion.parse(text);
        assertEquals(year, v.year());
        assertEquals(month, v.month());
        assertEquals(patch, v.patch());
        assertEquals(text, v.text());
        assertEquals(Optional.ofNullable(g), v.generation());
    }

    @Test
    void refusesPeersOutsideTheTableNamingTheirVersionAndTheSupportedOnes() {
        PeerVersion old = PeerVersion.of(Map.of("packages", Map.of("distributed", "2021.1.1")));
        assertFalse(old.supported());
        assertEquals(DaskVersion.parse("2021.1.1"), old.version());
        assertEquals("worker tcp://h:1 runs distributed 2021.1.1, which cloudviper does not speak: it speaks"
                + " distributed 2022.11.0 to 2022.12.1, 2023.10.0 to 2024.7.0, 2024.12.0 to 2024.12.1"
                + " (docs/dask-protocol.md, section 4.4)", old.refusal("worker tcp://h:1"));
        PeerVersion unreadable = PeerVersion.of(Map.of("packages", Map.of("distributed", "0+untagged.1.gabc")));
        assertFalse(unreadable.supported());
        assertTrue(unreadable.refusal("client C").startsWith("client C runs an unreadable distributed version"
                + " '0+untagged.1.gabc'"), unreadable.refusal("client C"));
        PeerVersion referee = PeerVersion.of(Map.of("packages", Map.of("distributed", "2024.1.1")));
        assertEquals(Generation.DASK_2024_1, referee.generation());
        assertNull(referee.refusal("client C"));
        assertSame(PeerVersion.UNSTATED, PeerVersion.of(Map.of("packages", Map.of())));
        assertEquals(Generation.DASK_2022, PeerVersion.UNSTATED.generation());
    }

    @Test
    void everyReferenceReleaseLiesInItsOwnLine() {
        for (Generation g : Generation.values()) {
            assertEquals(Optional.of(g), DaskVersion.parse(g.referenceVersion()).generation(), g.name());
            assertTrue(g.first().compareTo(g.last()) <= 0, g.name());
        }
        assertEquals("2023.10.0 to 2024.7.0", Generation.DASK_2024_1.range());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "2024", "24.1.1", "2024.13.0", "2024.0.1", "x2024.1.1", "2024.123.1"})
    void refusesWhatIsNoCalendarVersion(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DaskVersion.parse(text));
        assertTrue(e.getMessage().startsWith("distributed version"), e.getMessage());
    }

    @Test
    void readsTheVersionsStructuresPeersSend() {
        assertEquals(Optional.of(DaskVersion.parse("2024.12.1")),
                DaskVersion.ofVersions(Map.of("packages", Map.of("distributed", "2024.12.1"))));
        // a scheduler's versions reply nests its own under "scheduler"
        assertEquals(Generation.DASK_2024, Generation.ofVersions(
                Map.of("scheduler", Map.of("packages", Map.of("distributed", "2024.12.1")))));
        assertEquals(Generation.DASK_2024_1, Generation.ofVersions(Map.of("packages", Map.of("distributed", "2024.1.1"))));
        // no version, an unreadable one, or none at all: 2022 shapes, which every peer of that line reads
        // (a registration checks PeerVersion first and refuses what is unreadable or outside the table)
        assertEquals(Generation.DASK_2022, Generation.ofVersions(Map.of("scheduler", Map.of("packages", Map.of()))));
        assertEquals(Generation.DASK_2022, Generation.ofVersions(Map.of("packages", Map.of("distributed", "main"))));
        assertEquals(Generation.DASK_2022, Generation.ofVersions(null));
    }

    @Test
    void ordersByRelease() {
        assertTrue(DaskVersion.parse("2022.12.1").compareTo(DaskVersion.parse("2023.1.0")) < 0);
        assertTrue(DaskVersion.parse("2024.12.1").compareTo(DaskVersion.parse("2024.2.0")) > 0);
        assertEquals(0, DaskVersion.parse("2024.1rc1").compareTo(DaskVersion.parse("2024.1.0")));
    }
}
