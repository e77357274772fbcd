# Spack recipe of rfmseg (modelled on Spack's own h5bench recipe). Use it from this repository:
#
#   spack repo add packaging/spack             # namespace "rfmseg" (repo.yaml)
#   spack install rfmseg@main ^openmpi ^hdf5+mpi
#   spack install --test=root rfmseg@main      # also builds and runs the CTest suite
#   spack test run rfmseg                      # stand-alone tests below, on the installed package
#   spack load rfmseg   (or the Lmod module Spack generates; rfmseg's own modulefile is in
#                        <prefix>/share/modulefiles)
#
# Checked here with `python3 -m py_compile` and tests/install/spack_recipe.py (a stub of Spack's
# API), not with Spack itself.

from spack.package import *


class Rfmseg(CMakePackage):
    """Distributed RFM customer segmentation with MPI and parallel HDF5: transaction logs in, RFM
    values, K-means customer segments and quality metrics out, in one parallel-HDF5 file,
    bit-identical for any number of ranks."""

    homepage = "https://git.example.org/rfmseg/rfmseg"
    # The project's repository: point this at your clone or mirror (or use
    # `spack develop --path /path/to/rfmseg rfmseg@main`).
    git = "https://git.example.org/rfmseg/rfmseg.git"

    version("main", branch="main")

    variant("man", default=False,
            description="Man pages from --help with help2man (runs rfmseg as an MPI singleton at build time)")
    variant("march", default="none", values=("none", "x86-64-v2", "x86-64-v3", "x86-64-v4", "native"),
            multi=False, description="-march of the numerical core (none = portable)")

    depends_on("cmake@3.25:", type="build")
    depends_on("help2man", type="build", when="+man")

    depends_on("mpi")
    depends_on("hdf5@1.10:+mpi")
    depends_on("boost@1.70:+program_options")
    depends_on("eigen@3.3:")
    depends_on("zlib-api")  # .gz inputs
    depends_on("zstd")  # .zst inputs
    depends_on("openssl@3:")  # --pseudonymize-key (HMAC-SHA256)

    depends_on("googletest", type="test")
    depends_on("py-h5py", type="test")
    depends_on("py-pandas", type="test")

    def cmake_args(self):
        spec = self.spec
        args = [
            self.define("RFMSEG_BUILD_TESTS", self.run_tests),
            self.define_from_variant("RFMSEG_MAN_PAGES", "man"),
            self.define("MPI_C_COMPILER", spec["mpi"].mpicc),
            self.define("MPI_CXX_COMPILER", spec["mpi"].mpicxx),
            self.define("HDF5_PREFER_PARALLEL", True),
        ]
        if spec.variants["march"].value != "none":
            args.append(self.define("RFMSEG_MARCH", spec.variants["march"].value))
        return args

    # --- stand-alone tests (spack test run rfmseg) ---------------------------------------------

    def _mpiexec(self):
        for name in ("mpiexec", "mpirun", "srun"):
            exe = which(name, path=self.spec["mpi"].prefix.bin) or which(name)
            if exe:
                return exe
        raise SkipTest("no mpiexec, mpirun or srun for the MPI rfmseg was built with")

    def test_version(self):
        """rfmseg --version names this version and the libraries it was built with"""
        rfmseg = which(self.prefix.bin.rfmseg)
        out = rfmseg("--version", output=str.split, error=str.split)
        assert out.startswith("rfmseg "), out
        for word in ("MPI:", "HDF5:", "Boost:", "Eigen:", "Compiler:", "Flags:"):
            assert word in out, "{0} missing in:\n{1}".format(word, out)

    def test_demo(self):
        """a tiny job: rfmseg-gen, rfmseg under 2 ranks with the demo configuration, rfmseg verify"""
        mpiexec = self._mpiexec()
        gen = self.prefix.bin.join("rfmseg-gen")
        rfmseg = self.prefix.bin.rfmseg
        config = join_path(self.prefix.share.rfmseg.configs, "demo.ini")
        mpiexec("-n", "2", gen, "--output", "tx.csv", "--lines", "2000", "--seed", "42")
        mpiexec("-n", "2", rfmseg, "--quiet", "--config", config, "--input", "tx.csv", "--output", "result.h5")
        out = which(rfmseg)("verify", "result.h5", output=str.split, error=str.split)
        assert "result.h5" in out, out
