"""The command line itself: platforms of multi-platform images, output files, the commands
that do not exist yet, ``--version``, and the exit code of each kind of mistake."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.images.builder import BuiltIndex, Entry, build_image, build_multiplatform_oci, layer_tar
from tests.integration.cli_support import (
    Sandbox,
    assert_one_line_error,
    cache_entries,
    files_under,
    run_cli,
)

import hullscan
from hullscan.cli.main import main
from hullscan.errors import EXIT_INPUT_ERROR

pytestmark = [pytest.mark.integration]


def _dpkg_layer(distro: bytes, package: str, arch: str) -> bytes:
    status = (
        f"Package: {package}\nStatus: install ok installed\nVersion: 1.0-1\n"
        f"Architecture: {arch}\n\n"
    ).encode()
    return layer_tar([Entry("etc/os-release", distro), Entry("var/lib/dpkg/status", status)])


DEBIAN = b'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n'
UBUNTU = b'ID=ubuntu\nVERSION_ID="24.04"\nVERSION_CODENAME=noble\n'
AMD64 = ("linux", "amd64", None)
ARM64 = ("linux", "arm64", "v8")


@pytest.fixture(scope="module", params=["oci-dir", "oci-archive"])
def multi(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> BuiltIndex:
    """buildx-style: index.json -> image index -> amd64, arm64 and their attestations."""
    archive = request.param == "oci-archive"
    out = tmp_path_factory.mktemp("multi") / ("mp.tar" if archive else "mp")
    return build_multiplatform_oci(
        out,
        [
            (AMD64, [_dpkg_layer(DEBIAN, "tool-amd64", "amd64")]),
            (ARM64, [_dpkg_layer(UBUNTU, "tool-arm64", "arm64")]),
        ],
        archive=archive,
        nested=True,
        attestations=True,
    )


def _scan(spec: str, tmp_path: Path, *extra: str) -> Any:
    box = Sandbox(tmp_path)
    return run_cli("sbom", spec, "-f", "json", "-q", "--no-cache", *extra, sandbox=box)


@pytest.mark.parametrize(
    ("platform", "want"),
    [
        (None, 0),
        ("linux/amd64", 0),
        ("linux/x86_64", 0),
        ("linux/arm64", 1),
        ("linux/arm64/v8", 1),
        ("linux/aarch64", 1),
    ],
)
def test_platform_picks_the_manifest(
    multi: BuiltIndex, platform: str | None, want: int, tmp_path: Path
) -> None:
    extra = ("--platform", platform) if platform else ()
    sbom = _scan(str(multi.path), tmp_path, *extra).json()
    img = multi.images[want]
    target = sbom["target"]
    assert target["manifest_digest"] == img.manifest_digest
    assert target["config_digest"] == img.config_digest
    assert (target["os"], target["architecture"], target["variant"]) == img.platform
    assert [layer["diff_id"] for layer in sbom["layers"]] == img.diff_ids
    expected = (
        [("tool-amd64", "amd64", "debian")] if want == 0 else [("tool-arm64", "arm64", "ubuntu")]
    )
    assert [(p["name"], p["arch"], sbom["distro"]["id"]) for p in sbom["packages"]] == expected


@pytest.mark.parametrize("platform", ["linux/s390x", "linux/arm/v7", "windows/amd64"])
def test_missing_platform_lists_the_available_ones(
    multi: BuiltIndex, platform: str, tmp_path: Path
) -> None:
    run = _scan(str(multi.path), tmp_path, "--platform", platform)
    line = assert_one_line_error(run, 2, f"no image for platform {platform}")
    assert line.endswith("(available: linux/amd64, linux/arm64/v8)"), line
    assert "unknown" not in line  # attestation manifests are not images


def test_invalid_platform_is_a_usage_error(multi: BuiltIndex, tmp_path: Path) -> None:
    run = _scan(str(multi.path), tmp_path, "--platform", "arm64")
    assert_one_line_error(run, 2, "invalid platform 'arm64'", "os/arch")


def test_index_without_the_default_platform(tmp_path: Path) -> None:
    built = build_multiplatform_oci(
        tmp_path / "arm-only",
        [
            (ARM64, [_dpkg_layer(UBUNTU, "a", "arm64")]),
            (("linux", "arm", "v7"), [_dpkg_layer(UBUNTU, "b", "armhf")]),
        ],
    )
    line = assert_one_line_error(
        _scan(str(built.path), tmp_path), 2, "no image for platform linux/amd64"
    )
    assert "linux/arm/v7" in line and "linux/arm64/v8" in line
    ok = _scan(str(built.path), tmp_path, "--platform", "linux/arm/v7").json()
    assert [p["name"] for p in ok["packages"]] == ["b"]


@pytest.mark.parametrize(
    ("platform", "want"),
    [
        ("linux/arm/v7", "v7"),
        ("linux/arm", "v7"),  # arm means arm/v7
        ("linux/armhf", "v7"),
        ("linux/arm/v6", "v6"),
        ("linux/armel", "v6"),
        ("linux/arm/v8", "v7"),  # the highest level the machine runs
        ("linux/arm64", "v8"),
    ],
)
def test_best_matching_variant(platform: str, want: str, tmp_path: Path) -> None:
    built = build_multiplatform_oci(
        tmp_path / "arm",
        [
            (("linux", "arm", "v6"), [_dpkg_layer(DEBIAN, "v6", "armel")]),
            (("linux", "arm", "v7"), [_dpkg_layer(DEBIAN, "v7", "armhf")]),
            (ARM64, [_dpkg_layer(DEBIAN, "v8", "arm64")]),
        ],
    )
    sbom = _scan(str(built.path), tmp_path, "--platform", platform).json()
    assert [p["name"] for p in sbom["packages"]] == [want]


def test_single_platform_image_checked_against_an_explicit_platform(tmp_path: Path) -> None:
    img = build_image(
        tmp_path / "one.tar", [_dpkg_layer(DEBIAN, "x", "amd64")], fmt="docker-archive"
    )
    assert _scan(str(img.path), tmp_path, "--platform", "linux/amd64").json()["packages"]
    run = _scan(str(img.path), tmp_path, "--platform", "linux/arm64")
    assert_one_line_error(run, 2, "is for linux/amd64, not linux/arm64/v8")


# --------------------------------------------------------------------------- -f / -o


@pytest.fixture
def small(tmp_path: Path) -> Path:
    return build_image(tmp_path / "img", [_dpkg_layer(DEBIAN, "x", "amd64")], fmt="oci-dir").path


def test_two_formats_to_two_files(small: Path, tmp_path: Path) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    box = Sandbox(tmp_path / "box")
    a, b = tmp_path / "out" / "a.json", tmp_path / "out" / "b.json"
    a.parent.mkdir()
    run = run_cli(
        "sbom",
        small,
        "-q",
        "--no-cache",
        "-f",
        "json",
        "-o",
        a,
        "-f",
        "cyclonedx",
        "-o",
        b,
        sandbox=box,
    )
    assert (run.returncode, run.stdout, run.stderr) == (0, "", ""), run.describe()
    assert json.loads(a.read_text())["packages"][0]["name"] == "x"
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(b.read_text()) is None
    assert json.loads(b.read_text())["bomFormat"] == "CycloneDX"
    # Relative -o paths are relative to the working directory.
    rel = run_cli("sbom", small, "-q", "--no-cache", "-f", "spdx", "-o", "c.spdx.json", sandbox=box)
    assert rel.returncode == 0, rel.describe()
    assert json.loads((box.cwd / "c.spdx.json").read_text())["spdxVersion"] == "SPDX-2.3"


@pytest.mark.parametrize(
    ("outputs", "needles"),
    [
        ((("json", "missing-dir/a.json"),), ("cannot write", "does not exist")),
        ((("json", "."),), ("cannot write", "is a directory")),
        ((("json", "ok.json"), ("spdx", "missing-dir/b.json")), ("does not exist",)),
        ((("json", "same.json"), ("spdx", "./same.json")), ("same file",)),
        ((("json", "a.json"), ("xml", "b.xml")), ("unknown format 'xml'", "cyclonedx")),
        ((("json", None), ("table", None)), ("only one format can go to stdout",)),
    ],
)
def test_output_mistakes_fail_before_the_scan(
    small: Path,
    outputs: tuple[tuple[str, str | None], ...],
    needles: tuple[str, ...],
    tmp_path: Path,
) -> None:
    box = Sandbox(tmp_path / "box").make()
    args: list[str] = []
    for fmt, out in outputs:
        args += ["-f", fmt] + (["-o", out] if out else [])
    run = run_cli("sbom", small, "-q", "--cache-dir", box.cache, *args, sandbox=box)
    assert_one_line_error(run, EXIT_INPUT_ERROR, *needles)
    assert files_under(box.cwd) == [], "nothing may be written when one output cannot be"
    assert cache_entries(box.cache) == [], "the scan must not have started"


def test_more_outputs_than_formats(small: Path, tmp_path: Path) -> None:
    run = _scan(str(small), tmp_path, "-o", "a.json", "-o", "b.json")
    assert_one_line_error(run, 2, "more -o/--output than -f/--format")


def test_unusable_cache_dir_is_an_internal_error(small: Path, tmp_path: Path) -> None:
    """errors.py: CacheError maps to exit 3 (the cache is the machine's, not the input's)."""
    (tmp_path / "a-file").write_text("x")
    box = Sandbox(tmp_path / "box")
    run = run_cli(
        "sbom", small, "-q", "-f", "json", "--cache-dir", tmp_path / "a-file", sandbox=box
    )
    assert_one_line_error(run, EXIT_INPUT_ERROR, "cache directory", "unusable")


# --------------------------------------------------------------------------- commands


@pytest.mark.parametrize(
    ("command", "needle"),
    [
        (["image", "alpine:3.20"], "no vulnerability DB"),
        (["rootfs", "/"], "no vulnerability DB"),
        (["sbom-scan", "x.json"], "x.json: no such file"),
        (["rootfs", "/no/such/dir"], "not a directory"),
        (["image", "x", "--fail-on", "severe"], "unknown severity"),
        (["image", "x", "--severity", ","], "--severity"),
        (["image", "x", "--exit-code", "300"], "--exit-code"),
        (["image", "x", "--ignorefile", "/no/such/file"], "--ignorefile"),
        (["image", "x", "-f", "nope"], "unknown report format"),
    ],
)
def test_scan_commands_fail_in_one_line(command: list[str], needle: str, tmp_path: Path) -> None:
    run = run_cli(*command, sandbox=Sandbox(tmp_path))
    assert_one_line_error(run, 2, needle)


def test_version(tmp_path: Path) -> None:
    run = run_cli("--version", sandbox=Sandbox(tmp_path))
    assert (run.returncode, run.stdout, run.stderr) == (0, f"hullscan {hullscan.__version__}\n", "")


def test_no_command_prints_help_and_fails(tmp_path: Path) -> None:
    run = run_cli(sandbox=Sandbox(tmp_path))
    assert run.returncode == 2
    assert all(c in run.stdout for c in ("sbom", "image", "rootfs", "sbom-scan", "db"))
    assert "Traceback" not in run.stderr


def test_sbom_without_a_source(tmp_path: Path) -> None:
    run = run_cli("sbom", sandbox=Sandbox(tmp_path))
    assert run.returncode == 2 and run.stdout == ""
    assert "the following arguments are required: source" in run.stderr
    assert "Traceback" not in run.stderr


def test_main_in_process(small: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """main() returns the exit code instead of exiting, for embedding and fast tests."""
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"hullscan {hullscan.__version__}\n"
    assert main(["rootfs", "/", "--db", "/nonexistent/hullscan.sqlite"]) == 2
    assert "no vulnerability DB" in capsys.readouterr().err
    assert main(["sbom", str(small), "-q", "--no-cache", "-f", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["packages"][0]["name"] == "x"
    assert main(["sbom", str(small / "nope"), "-q", "--no-cache"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
