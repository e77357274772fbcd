"""What the plot scripts (plot_scaling.py, plot_history.py) need before they import anything else:
pandas and matplotlib. Debian's python3 (/usr/bin/python3) is used when the running one lacks them,
and python3-matplotlib python3-pandas are installed when missing (apt-get, with sudo when not root;
RFMSEG_NO_INSTALL=1 turns that off)."""
import os
import subprocess
import sys

PACKAGES = ["python3-matplotlib", "python3-pandas"]
DEBIAN_PYTHON = "/usr/bin/python3"


def ensure_modules(script, skip_on_help=False):
    """Returns when pandas and matplotlib import; else re-executes `script` under Debian's python or
    installs them first. With `skip_on_help`, --help needs neither."""
    name = os.path.splitext(os.path.basename(script))[0]
    if skip_on_help and any(arg in ("-h", "--help") for arg in sys.argv[1:]):
        return
    try:
        import matplotlib  # noqa: F401, PLC0415
        import pandas  # noqa: F401, PLC0415
        return
    except ImportError:
        pass
    again = [DEBIAN_PYTHON, os.path.abspath(script)] + sys.argv[1:]
    if os.path.realpath(sys.executable) != os.path.realpath(DEBIAN_PYTHON) and os.access(DEBIAN_PYTHON, os.X_OK) \
            and not os.environ.get("RFMSEG_PLOT_REEXEC"):
        os.environ["RFMSEG_PLOT_REEXEC"] = "1"
        probe = subprocess.run([DEBIAN_PYTHON, "-c", "import matplotlib, pandas"], capture_output=True)
        if probe.returncode == 0:
            os.execv(DEBIAN_PYTHON, again)
    if os.environ.get("RFMSEG_NO_INSTALL") == "1":
        sys.exit(f"{name}: needs pandas and matplotlib: apt-get install {' '.join(PACKAGES)}")
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    print(f"{name}: installing {' '.join(PACKAGES)}", file=sys.stderr)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(sudo + ["apt-get", "update", "-qq"], env=env, stdout=subprocess.DEVNULL, check=False)
    done = subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + PACKAGES,
                          env=env, stdout=subprocess.DEVNULL)
    if done.returncode != 0 or not os.access(DEBIAN_PYTHON, os.X_OK):
        sys.exit(f"{name}: could not install {' '.join(PACKAGES)}")
    os.environ["RFMSEG_PLOT_REEXEC"] = "1"
    os.execv(DEBIAN_PYTHON, again)
