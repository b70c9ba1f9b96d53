package org.cloudviper.protocol.cli;

import java.io.PrintWriter;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * What every cloudviper process's command line shares: the process settings that must precede the
 * first Netty and logging class, and picocli's parsing as {@code dask scheduler} / {@code dask worker}
 * (click) behave: the last of a repeated option counts, and a mistake gives one line saying what is
 * wrong, the usage and exit code 2.
 */
public final class Commands {
    private Commands() {
    }

    /** Call first in {@code main}, before any Netty or slf4j class loads. */
    public static void prepareProcess() {
        System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
        System.setProperty("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd HH:mm:ss,SSS");
        // With java.nio opened (the jars' Add-Opens), Netty allocates direct buffers without the JDK's
        // zero-fill: relaying 1 GiB otherwise spends ~10 % of the process's CPU clearing memory that the
        // socket read overwrites at once (perf, docs/benchmarks.md).
        if (System.getProperty("io.netty.tryReflectionSetAccessible") == null) {
            System.setProperty("io.netty.tryReflectionSetAccessible", "true");
        }
    }

    /** The command line of {@code command}: {@code execute(args)} runs it, or answers --help, --version or a mistake. */
    public static CommandLine commandLine(Object command) {
        return new CommandLine(command)
                .setOverwrittenOptionsAllowed(true)
                .setParameterExceptionHandler(Commands::badUsage);
    }

    static int badUsage(ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        PrintWriter err = cl.getErr();
        err.println("error: " + e.getMessage());
        cl.usage(err);
        return cl.getCommandSpec().exitCodeOnInvalidInput();
    }

    /**
     * {@code --version}: the command's name and the version in its jar's manifest (maven-jar-plugin
     * writes it), or "(not packaged)" when run from class files.
     */
    public static final class JarVersion implements CommandLine.IVersionProvider {
        @Spec
        private CommandSpec spec;

        @Override
        public String[] getVersion() {
            String v = spec.userObject().getClass().getPackage().getImplementationVersion();
            return new String[]{spec.name() + " " + (v != null ? v : "(not packaged)")};
        }
    }
}
