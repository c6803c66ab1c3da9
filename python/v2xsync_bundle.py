"""Read the labeled training bundles that ``v2xsync sync SCENARIO -o OUT --bundle`` writes.

A bundle is a folder, OUT: ``bundle.json`` (written last; its presence means the bundle is
complete), ``files.xxh64`` (a checksum per frame file, paths relative to OUT), and per exported
frame F (sync's frame number, 8 digits zero padded): ``frames/<F>.json`` (the frame's index,
written last of the frame), ``labels/<F>.json`` (ASAM OpenLABEL 1.0.0), and a file per member
under ``sensors/<agent>/<sensor>/``: ``<F>.png`` (camera) or ``<F>.pts.lz4`` (LiDAR, LZ4-framed
point records). Every path a frame's index gives ("file", "labels") is relative to OUT. sync's
usual outputs sit beside them (``frames.jsonl``, ``clocks.json``, ``v2x_messages.jsonl``,
``links.json``).

Example::

    import v2xsync_bundle as vb
    b = vb.open_bundle("OUT")
    for fr in b:
        img = fr.image("ego/camera")       # HxWx3 uint8, or None when the frame lacks it
        pts = fr.points("ego/lidar")       # structured array, POINT_DTYPE
        T = fr.body_to_enu("ego") @ fr.sensor_to_body("ego/lidar")

Needs numpy; ``Frame.points`` needs python-lz4 (Debian python3-lz4) and ``Frame.image``
Pillow (python3-pil), both imported only when first used. ``TorchDataset`` exists only
when torch can be imported.

Conventions: a stream is named ``"<agent>/<sensor>"`` (``"ego/lidar"``). Asking a frame
for a stream it does not list raises ``KeyError``; asking for a member the frame lists but
could not fill (``"file": null``, a partial frame) returns ``None``. Damaged files raise
``ValueError`` naming the file.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

__all__ = [
    "POINT_DTYPE", "BundleError", "BundleIncompleteError", "Bundle", "Frame",
    "open_bundle", "quaternion_to_matrix", "read_points_file", "read_checksums",
]

#: One LiDAR point as the bundle stores it: 32 bytes, little-endian, no header.
#: x, y, z in metres in the sensor frame (x forward, y left, z up); intensity (Velodyne
#: calibrated reflectivity 0..255, Ouster reflectivity); t_ns = the point's firing time
#: minus the frame time T, both on the reference timeline; ring = laser number / beam
#: row; azimuth in 0.01 degree; return 1 strongest, 2 last, 3 both, 4 second; pad zero.
POINT_DTYPE = np.dtype([('x', '<f4'), ('y', '<f4'), ('z', '<f4'), ('intensity', '<f4'),
                        ('t_ns', '<i8'), ('ring', '<u2'), ('azimuth', '<u2'),
                        ('return', 'u1'), ('pad', 'V3')])
assert POINT_DTYPE.itemsize == 32

PathLike = Union[str, "os.PathLike[str]"]

_FRAME_FILE_RE = re.compile(r"^([0-9]+)\.json$")
_JSONL_FRAME_RE = re.compile(rb'^\s*\{\s*"frame"\s*:\s*(-?[0-9]+)')
_XXH_LINE_RE = re.compile(r"^([0-9a-fA-F]{16})  (.+)$")


class BundleError(Exception):
    """A bundle that does not follow the format (a missing or malformed index file)."""


class BundleIncompleteError(BundleError, FileNotFoundError):
    """The folder has no bundle.json: ``sync --bundle`` did not finish writing it."""


def open_bundle(path: PathLike, *, allow_incomplete: bool = False) -> "Bundle":
    """Open the bundle in folder ``path``.

    Raises ``BundleIncompleteError`` when ``path/bundle.json`` is absent (the writer had not
    finished: rerun ``sync --bundle --resume``), unless ``allow_incomplete`` is true, in
    which case the frames whose ``frames/<F>.json`` exists (each is written after the
    frame's other files) are readable and ``info`` is ``{}``.
    Raises ``FileNotFoundError`` when ``path`` is not a folder.
    """
    return Bundle(path, allow_incomplete=allow_incomplete)


def _import_lz4_frame():
    try:
        import lz4.frame  # noqa: F401  (Debian python3-lz4)
    except ImportError as e:  # pragma: no cover - depends on the machine
        raise ImportError("reading bundle points needs python-lz4 "
                          "(Debian: apt-get install python3-lz4; pip: lz4)") from e
    return lz4.frame


def _import_pil_image():
    try:
        from PIL import Image  # Debian python3-pil
    except ImportError as e:  # pragma: no cover - depends on the machine
        raise ImportError("reading bundle images needs Pillow "
                          "(Debian: apt-get install python3-pil; pip: pillow)") from e
    return Image


def read_points_file(path: PathLike, expected: Optional[int] = None) -> np.ndarray:
    """Decode one ``.pts.lz4`` file (an LZ4 frame of 32-byte records) to a POINT_DTYPE array.

    Raises ``ValueError`` naming the file when it is not a valid LZ4 frame, when its
    decompressed length is not a multiple of 32 bytes, or when ``expected`` is given and
    the number of records differs from it. The returned array is writeable.
    """
    lz4_frame = _import_lz4_frame()
    p = Path(path)
    data = p.read_bytes()
    try:
        raw = lz4_frame.decompress(data, return_bytearray=True)
    except Exception as e:  # lz4 raises RuntimeError on damaged frames
        raise ValueError(f"{p}: not a valid LZ4 frame ({e})") from e
    if len(raw) % POINT_DTYPE.itemsize:
        raise ValueError(f"{p}: {len(raw)} bytes after decompression, not a multiple of the "
                         f"{POINT_DTYPE.itemsize}-byte point record")
    n = len(raw) // POINT_DTYPE.itemsize
    if expected is not None and n != expected:
        raise ValueError(f"{p}: {n} points, but the frame's index says {expected}")
    return np.frombuffer(raw, dtype=POINT_DTYPE)


def read_checksums(path: PathLike) -> Dict[str, str]:
    """Parse an ``xxhsum`` checksum file (``files.xxh64``) to {relative path: 16 hex digits}.

    The order of the file is kept (dicts keep insertion order). Raises ``BundleError`` on a
    line that is not ``<16 hex digits><two spaces><path>``.
    """
    out: Dict[str, str] = {}
    p = Path(path)
    with open(p, "r", encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line:
                continue
            m = _XXH_LINE_RE.match(line)
            if not m:
                raise BundleError(f"{p}:{lineno}: not an XXH64 checksum line: {line!r}")
            out[m.group(2)] = m.group(1).lower()
    return out


def quaternion_to_matrix(w: float, x: float, y: float, z: float) -> np.ndarray:
    """3x3 rotation matrix (float64) of the quaternion w + xi + yj + zk (normalized first).

    Raises ``ValueError`` for a zero or non-finite quaternion.
    """
    q = np.array([w, x, y, z], dtype=np.float64)
    n = float(np.linalg.norm(q))
    if not math.isfinite(n) or n == 0.0:
        raise ValueError(f"not a rotation quaternion: {[w, x, y, z]}")
    w, x, y, z = q / n
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ])


def _num(v: Any, default: float = 0.0) -> float:
    """A JSON number as float; None and NaN become ``default``."""
    if v is None:
        return default
    f = float(v)
    return default if math.isnan(f) else f


class Bundle:
    """An opened bundle: a sequence of ``Frame`` objects in frame-number order.

    ``len(b)``, ``b[i]`` (by position; negative indexes and slices work), ``iter(b)``,
    ``b.frame(n)`` (by sync's frame number), ``n in b``, ``b.frame_numbers`` (sorted),
    ``b.info`` (bundle.json), ``b.path`` (the folder OUT), ``b.complete`` (bundle.json
    exists), ``b.checksums()`` (files.xxh64). The frames are those whose ``frames/<F>.json``
    exists. Frames read their files when asked; nothing is cached across frames except the
    byte-offset index of ``frames.jsonl``.
    """

    def __init__(self, path: PathLike, *, allow_incomplete: bool = False):
        self.path = Path(path)
        if not self.path.is_dir():
            raise FileNotFoundError(f"{self.path}: no such bundle folder")
        info_path = self.path / "bundle.json"
        self.complete = info_path.is_file()
        if self.complete:
            try:
                with open(info_path, "r", encoding="utf-8") as f:
                    self.info: Dict[str, Any] = json.load(f)
            except ValueError as e:
                raise BundleError(f"{info_path}: not valid JSON ({e})") from e
        elif allow_incomplete:
            self.info = {}
        else:
            raise BundleIncompleteError(
                f"{info_path}: missing: the bundle is incomplete (bundle.json is written last; "
                f"'v2xsync sync ... --bundle' was interrupted or is still running: rerun it "
                f"with --resume)")
        # A frame exists when its index frames/<F>.json does: the writer renames it into
        # place after the frame's members and labels, so in an incomplete bundle the files of
        # an unfinished frame (under sensors/ and labels/) are simply not listed.
        self._files: Dict[int, str] = {}
        old_layout = False
        frames_dir = self.path / "frames"
        if frames_dir.is_dir():
            for entry in os.scandir(frames_dir):
                m = _FRAME_FILE_RE.match(entry.name)
                if m and entry.is_file():
                    self._files[int(m.group(1))] = entry.name
                elif entry.name.isdigit() and entry.is_dir():
                    old_layout = True
        if old_layout and not self._files:
            raise BundleError(f"{frames_dir}: per-frame folders (frames/<F>/frame.json), the "
                              f"layout of an earlier v2xsync; this loader reads frames/<F>.json: "
                              f"write the bundle again with the current v2xsync")
        self._numbers: List[int] = sorted(self._files)
        self._jsonl_index: Optional[Dict[int, Tuple[int, int]]] = None

    # -- the sequence -------------------------------------------------------------------------
    @property
    def frame_numbers(self) -> List[int]:
        """sync's frame numbers of the exported frames, ascending (a copy)."""
        return list(self._numbers)

    def __len__(self) -> int:
        return len(self._numbers)

    def __iter__(self) -> Iterator["Frame"]:
        for n in self._numbers:
            yield self.frame(n)

    def __getitem__(self, i: Union[int, slice]) -> Union["Frame", List["Frame"]]:
        """The frame at position ``i`` (not frame number: see ``frame``); a slice gives a list."""
        if isinstance(i, slice):
            return [self.frame(n) for n in self._numbers[i]]
        return self.frame(self._numbers[i])  # IndexError past the end

    def __contains__(self, number: object) -> bool:
        return number in self._files

    def frame(self, number: int) -> "Frame":
        """The frame with sync's frame number ``number``; ``KeyError`` if it was not exported."""
        try:
            name = self._files[int(number)]
        except KeyError:
            raise KeyError(f"frame {number} is not in the bundle {self.path} "
                           f"({len(self)} frames exported)") from None
        return Frame(self, int(number), self.path / "frames" / name)

    def __repr__(self) -> str:
        return f"<v2xsync bundle {str(self.path)!r}: {len(self)} frames>"

    # -- files beside the frames --------------------------------------------------------------
    def checksums(self) -> Dict[str, str]:
        """files.xxh64 as {path relative to the bundle ("sensors/ego/lidar/00000042.pts.lz4",
        "labels/00000042.json", "frames/00000042.json"): 16 lowercase hex digits}."""
        return read_checksums(self.path / "files.xxh64")

    def _index_jsonl(self) -> Dict[int, Tuple[int, int]]:
        """Byte offset and length of every frames.jsonl line, by frame number (built once).

        The file is read line by line and only each line's leading ``"frame"`` number is
        parsed, so the whole file is never in memory.
        """
        if self._jsonl_index is None:
            index: Dict[int, Tuple[int, int]] = {}
            p = self.path / "frames.jsonl"
            if p.is_file():
                off = 0
                with open(p, "rb") as f:
                    for line in f:
                        m = _JSONL_FRAME_RE.match(line)
                        if m:
                            n = int(m.group(1))
                        elif line.strip():
                            try:
                                n = int(json.loads(line)["frame"])
                            except (ValueError, KeyError, TypeError) as e:
                                raise BundleError(f"{p}: the line at byte {off} has no frame "
                                                  f"number ({e})") from e
                        else:
                            off += len(line)
                            continue
                        index[n] = (off, len(line))
                        off += len(line)
            self._jsonl_index = index
        return self._jsonl_index

    def sync_record(self, number: int) -> Optional[Dict[str, Any]]:
        """The frames.jsonl line of frame ``number`` as a dict; None if the file or line is absent.

        Reads only that line (seeking to its byte offset); see ``Frame.v2x``.
        """
        idx = self._index_jsonl().get(int(number))
        if idx is None:
            return None
        off, length = idx
        with open(self.path / "frames.jsonl", "rb") as f:
            f.seek(off)
            return json.loads(f.read(length))


class Frame:
    """One exported frame: its index ``frames/<F>.json`` and accessors for its files.

    Attributes from the index: ``number`` (sync's frame number), ``t_ns`` (T on the
    reference timeline, ns since 1970), ``t`` (the same as ISO 8601), ``partial``,
    ``reasons``, ``members`` (list of dicts, one per stream), ``agents``; ``meta`` is the
    whole index dict, ``path`` the index file (``OUT/frames/<F>.json``) and ``bundle`` the
    ``Bundle``. The files the index names ("file", "labels") are relative to the bundle
    folder ``bundle.path``; ``file_path`` and ``labels_path`` resolve them.
    """

    def __init__(self, bundle: Bundle, number: int, path: Path):
        self.bundle = bundle
        self.path = path
        fj = path
        try:
            with open(fj, "r", encoding="utf-8") as f:
                self.meta: Dict[str, Any] = json.load(f)
        except FileNotFoundError:
            raise BundleError(f"{fj}: missing (a frame's index is written after its other "
                              f"files: the frame is incomplete)") from None
        except ValueError as e:
            raise BundleError(f"{fj}: not valid JSON ({e})") from e
        self.number: int = int(self.meta.get("frame", number))
        if self.number != number:
            raise BundleError(f"{fj}: says frame {self.number}, its file name frame {number}")
        self.t_ns: int = int(self.meta["t_ns"])
        self.t: Optional[str] = self.meta.get("t")
        self.partial: bool = bool(self.meta.get("partial", False))
        self.reasons: List[str] = list(self.meta.get("reasons") or [])
        self.members: List[Dict[str, Any]] = list(self.meta.get("members") or [])
        self.agents: Dict[str, Any] = dict(self.meta.get("agents") or {})
        self._labels: Optional[Dict[str, Any]] = None

    def __repr__(self) -> str:
        return (f"<v2xsync frame {self.number} t={self.t or self.t_ns} "
                f"{len(self.members)} members{' partial' if self.partial else ''}>")

    # -- members ------------------------------------------------------------------------------
    @staticmethod
    def _stream_of(m: Dict[str, Any]) -> str:
        return m.get("stream") or f"{m.get('agent')}/{m.get('sensor')}"

    @property
    def streams(self) -> List[str]:
        """The member streams ("agent/sensor") in the index's order."""
        return [self._stream_of(m) for m in self.members]

    def member(self, stream: str) -> Dict[str, Any]:
        """The index's member dict of ``stream`` ("agent/sensor"); ``KeyError`` if not listed.

        A present member has ``file`` (relative to the bundle folder), ``item``, ``t_ref_ns``,
        ``dt_ns`` (its time minus T) and ``xxh64``; a missing one has ``"file": None``, a
        ``reason``, no ``dt_ns``, and frames.jsonl's ``nearest_dt_ns`` (or ``set_dt_ns``)
        when it gives one.
        """
        for m in self.members:
            if self._stream_of(m) == stream:
                return m
        raise KeyError(f"frame {self.number} has no member {stream!r} "
                       f"(it has {', '.join(self.streams) or 'none'})")

    def file_path(self, stream: str) -> Optional[Path]:
        """Path of ``stream``'s file (``bundle.path / file``, e.g.
        ``OUT/sensors/ego/lidar/00000042.pts.lz4``), or None when the member has no file
        (missing); ``KeyError`` when the frame lists no such stream."""
        f = self.member(stream).get("file")
        return None if f is None else self.bundle.path / f

    @property
    def labels_path(self) -> Path:
        """Path of this frame's labels (``bundle.path / labels``: ``OUT/labels/<F>.json``)."""
        return self.bundle.path / (self.meta.get("labels") or f"labels/{self.path.name}")

    def image(self, stream: str) -> Optional[np.ndarray]:
        """The camera member's image as an HxWx3 uint8 RGB array.

        ``KeyError`` when the frame lists no such stream; None when the member is listed but
        has no file (missing from this partial frame). Images not stored as 8-bit RGB are
        converted by Pillow. ``ValueError`` naming the file when its size differs from the
        member's ``width``/``height``.
        """
        m = self.member(stream)
        p = self.file_path(stream)
        if p is None:
            return None
        Image = _import_pil_image()
        with Image.open(p) as im:
            im.load()
            if im.mode != "RGB":
                im = im.convert("RGB")
            a = np.asarray(im)
        w, h = m.get("width"), m.get("height")
        if (w is not None and a.shape[1] != w) or (h is not None and a.shape[0] != h):
            raise ValueError(f"{p}: {a.shape[1]}x{a.shape[0]} pixels, but the frame's index says "
                             f"{w}x{h}")
        return a

    def points(self, stream: str) -> Optional[np.ndarray]:
        """The LiDAR member's points: a structured array of ``POINT_DTYPE`` (32-byte records).

        ``KeyError`` when the frame lists no such stream; None when the member is listed but
        has no file. ``ValueError`` naming the file when it is not an LZ4 frame, its length
        is not a multiple of 32 bytes, or its count differs from the index's ``points``.
        ``t_ns`` is relative to the frame time ``self.t_ns``; add it for absolute times.
        """
        m = self.member(stream)
        p = self.file_path(stream)
        if p is None:
            return None
        expected = m.get("points")
        return read_points_file(p, None if expected is None else int(expected))

    # -- labels -------------------------------------------------------------------------------
    @property
    def labels(self) -> Dict[str, Any]:
        """``labels/<F>.json`` (OpenLABEL 1.0.0: ``{"openlabel": {...}}``), read once per Frame."""
        if self._labels is None:
            p = self.labels_path
            with open(p, "r", encoding="utf-8") as f:
                self._labels = json.load(f)
        return self._labels

    def cuboids(self) -> List[Dict[str, Any]]:
        """This frame's OpenLABEL cuboids, flattened: one dict per (object, receiving agent).

        Keys: ``uid`` (int when decimal: a V2X sender's station id, or 2^32 + station*65536 +
        id for a CPM-perceived object), ``name`` and ``type`` (the object's, e.g. "vehicle2",
        "car"), ``receiver`` (the agent whose view this is: the cuboid's name),
        ``coordinate_system``, ``x, y, z, yaw`` (m, rad, in that coordinate system),
        ``length, width, height`` (m), ``attributes`` (every num/text/boolean/vec attribute
        as name -> value). A cuboid given by quaternion (10 values) gets its yaw from it.
        """
        ol = self.labels.get("openlabel", {})
        static = ol.get("objects") or {}
        frames = ol.get("frames") or {}
        fr = frames.get(str(self.number))
        if fr is None and len(frames) == 1:
            fr = next(iter(frames.values()))
        out: List[Dict[str, Any]] = []
        for uid, obj in ((fr or {}).get("objects") or {}).items():
            info = static.get(uid) or {}
            for cub in ((obj.get("object_data") or {}).get("cuboid") or []):
                val = [float(v) for v in cub.get("val") or []]
                if len(val) == 9:
                    x, y, z, _rx, _ry, yaw, length, width, height = val
                elif len(val) == 10:
                    x, y, z, qx, qy, qz, qw, length, width, height = val
                    yaw = math.atan2(2 * (qw * qz + qx * qy), 1 - 2 * (qy * qy + qz * qz))
                else:
                    raise BundleError(f"{self.labels_path}: object {uid}: a cuboid "
                                      f"with {len(val)} values (OpenLABEL gives 9 or 10)")
                attrs: Dict[str, Any] = {}
                for kind_list in (cub.get("attributes") or {}).values():
                    for a in kind_list or []:
                        attrs[a.get("name")] = a.get("val")
                out.append({
                    "uid": int(uid) if uid.isdigit() else uid,
                    "name": info.get("name"), "type": info.get("type"),
                    "receiver": cub.get("name"),
                    "coordinate_system": cub.get("coordinate_system"),
                    "x": x, "y": y, "z": z, "yaw": yaw,
                    "length": length, "width": width, "height": height,
                    "attributes": attrs,
                })
        return out

    @property
    def v2x(self) -> Optional[Dict[str, Any]]:
        """This frame's line of ``frames.jsonl`` (sync's record: members, V2X messages each
        agent received, poses, links), or None when the bundle has no frames.jsonl or no line
        for this frame. Read by seeking to the line (the file is indexed once, lazily)."""
        return self.bundle.sync_record(self.number)

    # -- transforms ---------------------------------------------------------------------------
    def sensor_to_body(self, stream: str) -> Optional[np.ndarray]:
        """4x4 float64 transform of ``stream``'s member: p_body = R p_sensor + t.

        From the member's ``sensor_to_body`` (rotation quaternion w,x,y,z, normalized;
        translation x,y,z in metres). ``KeyError`` when the frame lists no such stream; None
        when the member gives no extrinsics.
        """
        s2b = self.member(stream).get("sensor_to_body")
        if not s2b:
            return None
        T = np.eye(4)
        T[:3, :3] = quaternion_to_matrix(*[float(v) for v in s2b["rotation"]])
        T[:3, 3] = [float(v) for v in s2b["translation"]]
        return T

    def body_to_enu(self, agent: str) -> Optional[np.ndarray]:
        """4x4 float64 pose of ``agent``'s body frame in the scenario ENU frame at this frame.

        A rotation about z by the pose's yaw (rad, counter-clockwise from east) and the
        translation x, y, z (m; a z that is null or NaN, unknown, is taken as 0: the ground
        plane). ``KeyError`` when the index lists no such agent; None when its pose is
        unknown (``agents[agent]["pose_reason"]`` says why).
        """
        try:
            a = self.agents[agent]
        except KeyError:
            raise KeyError(f"frame {self.number} has no agent {agent!r} "
                           f"(it has {', '.join(self.agents) or 'none'})") from None
        pose = (a or {}).get("pose")
        if not pose:
            return None
        yaw = _num(pose.get("yaw", pose.get("yaw_rad")), float("nan"))
        x, y = _num(pose.get("x"), float("nan")), _num(pose.get("y"), float("nan"))
        if not (math.isfinite(yaw) and math.isfinite(x) and math.isfinite(y)):
            return None
        c, s = math.cos(yaw), math.sin(yaw)
        T = np.eye(4)
        T[:2, :2] = [[c, -s], [s, c]]
        T[:3, 3] = [x, y, _num(pose.get("z"))]
        return T

    def sensor_to_enu(self, stream: str) -> Optional[np.ndarray]:
        """``body_to_enu(agent) @ sensor_to_body(stream)``; None when either is unknown."""
        m = self.member(stream)
        agent = m.get("agent") or self._stream_of(m).split("/", 1)[0]
        b2e, s2b = self.body_to_enu(agent), self.sensor_to_body(stream)
        return None if b2e is None or s2b is None else b2e @ s2b


# -- torch (optional) ---------------------------------------------------------------------------
_torch_dataset_cls = None


def _make_torch_dataset():
    import torch.utils.data  # ImportError when torch is not installed

    class TorchDataset(torch.utils.data.Dataset):
        """A ``torch.utils.data.Dataset`` over a bundle's frames (position i = ``bundle[i]``).

        ``ds[i]`` is a dict: ``frame`` (int), ``t_ns`` (int), ``partial`` (bool),
        ``images`` {stream: HxWx3 uint8}, ``points`` {stream: POINT_DTYPE array},
        ``sensor_to_body`` {stream: 4x4}, ``body_to_enu`` {agent: 4x4} (known poses only),
        ``cuboids`` (``Frame.cuboids()``), ``labels`` (the OpenLABEL dict). Members without
        a file are left out. ``streams`` limits the members read. Point counts differ
        between frames: pass ``collate_fn=TorchDataset.collate`` (a list of samples) or
        your own. ``transform`` (optional) is applied to each sample dict.
        """

        def __init__(self, bundle: Union[Bundle, PathLike], streams: Optional[Sequence[str]] = None,
                     transform=None):
            self.bundle = bundle if isinstance(bundle, Bundle) else open_bundle(bundle)
            self.streams = None if streams is None else set(streams)
            self.transform = transform

        def __len__(self) -> int:
            return len(self.bundle)

        def __getitem__(self, i: int) -> Dict[str, Any]:
            fr = self.bundle[i]
            images: Dict[str, np.ndarray] = {}
            points: Dict[str, np.ndarray] = {}
            s2b: Dict[str, np.ndarray] = {}
            for m in fr.members:
                st = Frame._stream_of(m)
                if self.streams is not None and st not in self.streams:
                    continue
                if m.get("file") is not None:
                    if m.get("kind") == "camera":
                        images[st] = fr.image(st)
                    elif m.get("kind") == "lidar":
                        points[st] = fr.points(st)
                t = fr.sensor_to_body(st)
                if t is not None:
                    s2b[st] = t
            b2e = {a: t for a in fr.agents if (t := fr.body_to_enu(a)) is not None}
            sample = {"frame": fr.number, "t_ns": fr.t_ns, "partial": fr.partial,
                      "images": images, "points": points, "sensor_to_body": s2b,
                      "body_to_enu": b2e, "cuboids": fr.cuboids(), "labels": fr.labels}
            return self.transform(sample) if self.transform else sample

        @staticmethod
        def collate(batch: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
            """A collate_fn that keeps the samples as they are (a list)."""
            return list(batch)

    return TorchDataset


def __getattr__(name: str):
    """``TorchDataset`` is created on first use, and only when torch imports (PEP 562)."""
    global _torch_dataset_cls
    if name == "TorchDataset":
        if _torch_dataset_cls is None:
            try:
                _torch_dataset_cls = _make_torch_dataset()
            except ImportError as e:
                raise AttributeError("v2xsync_bundle.TorchDataset needs torch, which does not "
                                     f"import here ({e})") from None
        return _torch_dataset_cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
