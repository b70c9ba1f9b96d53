package org.cloudviper.imaging;

/** The arithmetic of grids and transforms; visibilities and images are float32 either way. */
public enum Precision {
    /** Grids of complex64: half the memory and traffic; accuracies down to 1e-5 of the peak. */
    FLOAT32,
    /** Grids of complex128, for accuracies below 1e-5. */
    FLOAT64
}
