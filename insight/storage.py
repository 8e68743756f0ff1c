"""Where a lake lives: a local folder, or a URI (s3a://, abfss://, gs://, hdfs://, dbfs:/,
file:/) that only the session's Hadoop FileSystem can read.

Everything that lists, reads or writes a lake's files outside a DataFrame goes through
here, so erase, audit and the report work on an object store as on a laptop. The JVM is
reached only when a path is a URI: local paths stay plain Python (and testable without one).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")


def is_local(path: str) -> bool:
    """A plain file path: no URI scheme (a Windows drive letter is not one)."""
    return not _SCHEME.match(path) or _WINDOWS_DRIVE.match(path) is not None


def join(root: str, *parts: str) -> str:
    """`root/part/...` as text: Path would turn `s3a://b/x` into `s3a:/b/x`."""
    return "/".join([root.rstrip("/"), *(p.strip("/") for p in parts)])


def _hadoop(spark: SparkSession, path: str) -> tuple[Any, Any]:
    """(FileSystem, Path) of a URI, with the session's Hadoop configuration (credentials,
    endpoints, per-bucket settings), i.e. the file system its Delta tables use."""
    jvm = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    return hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), hpath


def is_dir(spark: SparkSession, path: str) -> bool:
    if is_local(path):
        return Path(path).is_dir()
    fs, hpath = _hadoop(spark, path)
    # An object store has no folders: a prefix with objects under it counts as one.
    return bool(fs.exists(hpath) and fs.getFileStatus(hpath).isDirectory())


def children(spark: SparkSession, path: str) -> list[tuple[str, bool]]:
    """(name, is folder) of each entry directly under `path`, by name; [] if it is absent."""
    if is_local(path):
        folder = Path(path)
        if not folder.is_dir():
            return []
        return [(c.name, c.is_dir()) for c in sorted(folder.iterdir())]
    fs, hpath = _hadoop(spark, path)
    if not fs.exists(hpath):
        return []
    found = [(s.getPath().getName(), bool(s.isDirectory())) for s in fs.listStatus(hpath)]
    return sorted(found)


def read_bytes(spark: SparkSession, path: str) -> bytes:
    if is_local(path):
        return Path(path).read_bytes()
    fs, hpath = _hadoop(spark, path)
    stream = fs.open(hpath)
    try:
        return bytes(spark.sparkContext._jvm.org.apache.commons.io.IOUtils.toByteArray(stream))
    finally:
        stream.close()


def write_text(spark: SparkSession, path: str, text: str) -> None:
    """Write `text` (UTF-8) to `path`, replacing it; readers never see half a file."""
    if is_local(path):
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)
        return
    fs, hpath = _hadoop(spark, path)
    out = fs.create(hpath, True)  # overwrite; object stores make it visible on close
    try:
        out.write(bytearray(text.encode("utf-8")))
    finally:
        out.close()


def read_text(spark: SparkSession, path: str) -> str:
    return read_bytes(spark, path).decode("utf-8")


def rename(spark: SparkSession, src: str, dst: str) -> None:
    """Move one file (same file system); the parent folder of `dst` is created."""
    if is_local(src):
        Path(dst).parent.mkdir(parents=True, exist_ok=True)
        Path(src).rename(dst)
        return
    fs, hsrc = _hadoop(spark, src)
    _, hdst = _hadoop(spark, dst)
    fs.mkdirs(hdst.getParent())
    if not fs.rename(hsrc, hdst):
        raise OSError(f"could not move {src} to {dst}")


def delete_tree(spark: SparkSession, path: str) -> None:
    """Remove a folder and everything under it; nothing if it is absent."""
    if is_local(path):
        import shutil

        shutil.rmtree(path, ignore_errors=True)
        return
    fs, hpath = _hadoop(spark, path)
    fs.delete(hpath, True)
