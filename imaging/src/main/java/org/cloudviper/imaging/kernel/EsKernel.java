package org.cloudviper.imaging.kernel;

/**
 * The exponential-of-semicircle ("ES") gridding kernel of Barnett, Magland and af Klinteberg (FINUFFT,
 * SIAM J. Sci. Comput. 41, 2019), the kernel of ducc0's wgridder too:
 * {@code phi(x) = exp(beta * (sqrt(1 - (2x/W)^2) - 1))} for {@code |x| <= W/2} grid cells, zero outside.
 * Its Fourier transform has no closed form; {@link #fourier} integrates it by Gauss-Legendre
 * quadrature, which is exact to double precision for the few hundred nodes used here.
 */
public final class EsKernel {
    /** FINUFFT's choice of beta for an oversampling factor sigma: gamma * pi * (1 - 1/(2 sigma)) * W. */
    private static final double GAMMA = 0.97;
    private static final int QUADRATURE_NODES = 256;

    private final int support;
    private final double beta;
    private final double[] nodes;
    private final double[] nodeWeights;
    private final double[] nodeValues;

    private EsKernel(int support, double beta) {
        if (support < 2 || support > 16) {
            throw new IllegalArgumentException("support: " + support + " (expected: 2..16)");
        }
        this.support = support;
        this.beta = beta;
        double[][] gl = GaussLegendre.rule(QUADRATURE_NODES);
        this.nodes = gl[0];
        this.nodeWeights = gl[1];
        this.nodeValues = new double[nodes.length];
        for (int q = 0; q < nodes.length; q++) {
            nodeValues[q] = normalized(nodes[q]);
        }
    }

    /** The kernel of {@code support} cells with FINUFFT's beta for the grid oversampling {@code sigma}. */
    public static EsKernel forOversampling(int support, double sigma) {
        return new EsKernel(support, GAMMA * Math.PI * (1 - 1 / (2 * sigma)) * support);
    }

    public int support() {
        return support;
    }

    public double beta() {
        return beta;
    }

    /** The kernel at {@code x} grid cells from its centre. */
    public double value(double x) {
        return normalized(2 * x / support);
    }

    private double normalized(double t) {
        double s = 1 - t * t;
        // closed support: the table's last node sits on the edge and must see the limit from inside
        return s < 0 ? 0 : Math.exp(beta * (Math.sqrt(s) - 1));
    }

    /**
     * The Fourier transform {@code integral phi(x) exp(2 pi i x xi) dx} at {@code xi} cycles per grid
     * cell; real because phi is even.
     */
    public double fourier(double xi) {
        double half = support / 2.0;
        double sum = 0;
        for (int q = 0; q < nodes.length; q++) {
            sum += nodeWeights[q] * nodeValues[q] * Math.cos(2 * Math.PI * half * nodes[q] * xi);
        }
        return sum * half;
    }

    /**
     * An estimate of the relative aliasing error of gridding with this kernel on a grid oversampled by
     * {@code sigma}, along one axis: the largest, over the image ({@code |xi| <= 1/(2 sigma)}), of
     * {@code sum over m != 0 of |phihat(xi + m)| / phihat(xi)}.
     */
    public double aliasingError(double sigma) {
        double worst = 0;
        int samples = 24;
        for (int s = 0; s <= samples; s++) {
            double xi = s / (2.0 * sigma * samples);
            double alias = 0;
            for (int m = 1; m <= 4; m++) {
                alias += Math.abs(fourier(xi + m)) + Math.abs(fourier(xi - m));
            }
            worst = Math.max(worst, alias / fourier(xi));
        }
        return worst;
    }

    /** The largest |second derivative| in cells^-2, which bounds linear interpolation in a table. */
    public double maxSecondDerivative() {
        double h = 1e-4;
        double worst = 0;
        double half = support / 2.0;
        for (double x = -half + h; x <= half - h; x += support / 4096.0) {
            double d2 = (value(x + h) - 2 * value(x) + value(x - h)) / (h * h);
            worst = Math.max(worst, Math.abs(d2));
        }
        return worst;
    }
}
