#!/usr/bin/python3
"""packaging/spack/packages/rfmseg/package.py against a stub of Spack's package API (Spack itself
is not installable here): the recipe loads, declares the dependencies the build needs, its
cmake_args are the project's options, and its stand-alone tests (test_version, test_demo) pass on
a real `cmake --install` prefix.

  spack_recipe.py RECIPE BUILD_DIR MPIEXEC
"""

import os
import shutil
import subprocess
import sys
import tempfile
import types


class Prefix(str):
    def __getattr__(self, name):
        return Prefix(os.path.join(self, name))

    def join(self, name):
        return Prefix(os.path.join(self, name))


class Executable:
    def __init__(self, path):
        self.path = path

    def __call__(self, *args, output=None, error=None):
        run = subprocess.run([self.path, *map(str, args)], capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError("{0} {1}: exit {2}\n{3}{4}".format(self.path, args, run.returncode, run.stdout, run.stderr))
        return run.stdout + run.stderr if output is str.split else None


def which(name, path=None):
    found = shutil.which(name, path=path) if not os.path.isabs(name) else (name if os.access(name, os.X_OK) else None)
    return Executable(found) if found else None


class SkipTest(Exception):
    pass


DEPENDS, VERSIONS, VARIANTS = [], [], {}


class CMakePackage:
    def __init__(self, spec, prefix, run_tests):
        self.spec, self.prefix, self.run_tests = spec, prefix, run_tests

    def define(self, name, value):
        if isinstance(value, bool):
            value = "ON" if value else "OFF"
        return "-D{0}={1}".format(name, value)

    def define_from_variant(self, name, variant):
        return self.define(name, self.spec.variants[variant].value)


stub = types.ModuleType("spack.package")
stub.CMakePackage = CMakePackage
stub.depends_on = lambda spec, **kw: DEPENDS.append((spec, kw.get("type", ("build", "link")), kw.get("when")))
stub.version = lambda v, **kw: VERSIONS.append(v)
stub.variant = lambda name, default=None, **kw: VARIANTS.__setitem__(name, default)
stub.which = which
stub.join_path = os.path.join
stub.SkipTest = SkipTest
stub.__all__ = ["CMakePackage", "depends_on", "version", "variant", "which", "join_path", "SkipTest"]
sys.modules["spack"] = types.ModuleType("spack")
sys.modules["spack.package"] = stub

failures = 0


def check(ok, what):
    global failures
    print(("ok: " if ok else "FAIL: ") + what)
    failures += 0 if ok else 1


def main():
    recipe, build, mpiexec = sys.argv[1:4]
    if os.getuid() == 0:  # CI runs as root; Open MPI refuses unless told
        os.environ.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    os.environ.setdefault("OMPI_MCA_rmaps_base_oversubscribe", "1")
    namespace = {}
    with open(recipe) as f:
        exec(compile(f.read(), recipe, "exec"), namespace)
    cls = namespace["Rfmseg"]
    check(issubclass(cls, CMakePackage), "Rfmseg is a CMakePackage")
    names = {spec.split("@")[0].split("+")[0]: (spec, kind) for spec, kind, _ in DEPENDS}
    for needed, words in [("mpi", []), ("hdf5", ["+mpi"]), ("boost", ["+program_options"]), ("eigen", []),
                          ("cmake", []), ("googletest", [])]:
        spec = names.get(needed, ("", None))[0]
        check(needed in names and all(w in spec for w in words), "depends_on({0!r})".format(spec or needed))
    check(names.get("googletest", (None, None))[1] == "test", "googletest is a test dependency")
    check(bool(VERSIONS), "versions: {0}".format(VERSIONS))

    # cmake_args with a fake spec: only options the project has.
    variant = lambda v: types.SimpleNamespace(value=v)
    mpi = types.SimpleNamespace(mpicc="/usr/bin/mpicc", mpicxx="/usr/bin/mpicxx", prefix=Prefix("/usr"))
    spec = types.SimpleNamespace(variants={"man": variant(False), "march": variant("x86-64-v3")},
                                 __getitem__=None)
    spec = type("Spec", (), {"variants": spec.variants, "__getitem__": lambda self, k: mpi})()
    work = tempfile.mkdtemp(prefix="rfmseg-spack.")
    try:
        prefix = Prefix(os.path.join(work, "prefix"))
        package = cls(spec, prefix, True)
        args = package.cmake_args()
        check("-DRFMSEG_BUILD_TESTS=ON" in args and "-DRFMSEG_MAN_PAGES=OFF" in args
              and "-DRFMSEG_MARCH=x86-64-v3" in args, "cmake_args: {0}".format(" ".join(args)))
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            cache = f.read()
        for arg in args:
            name = arg[2:].split("=")[0]
            check(name + ":" in cache or name.startswith(("MPI_", "HDF5_")), "{0} is a cache variable of the project".format(name))

        # The stand-alone tests on a real installation (Spack runs them in a scratch directory).
        subprocess.run(["cmake", "--install", build, "--prefix", prefix], check=True, stdout=subprocess.DEVNULL)
        mpi.prefix = Prefix(os.path.dirname(os.path.dirname(mpiexec)))
        os.chdir(work)
        for name in sorted(n for n in dir(cls) if n.startswith("test_")):
            try:
                getattr(package, name)()
                check(True, "{0}: {1}".format(name, getattr(cls, name).__doc__))
            except Exception as error:  # noqa: BLE001 - report any failure of the recipe's test
                check(False, "{0}: {1}".format(name, error))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
