"""Files at rest: every file under MEDIA_ROOT is encrypted with the field keys, in chunks.

`EncryptedFileSystemStorage` is the default storage, so every FileField (evidence scans,
institution batch files, F-1.06 statements, SKTS letters, scheduled reports) writes through
it and `field.open("rb")` returns the plaintext as a seekable stream that decrypts one chunk
at a time: a 50 MB file never sits whole in memory, on the way in or out.

Format, version 1 (docs/operations.md, "Files at rest"):

    header   b"PWFE1\\n" and 16 random bytes, the file's id
    frames   a 4-byte big-endian length, then a Fernet token (its raw bytes, not base64)

Each token (MultiFernet over FIELD_ENCRYPTION_KEYS, newest first) encrypts the file's id,
the chunk's index (8 bytes, big-endian), a last-chunk flag (1 byte) and the data. Every
chunk but the last holds exactly CHUNK_SIZE bytes. Reading checks each chunk's id and index,
and that the flag is set on the last frame and only there, so chunks cannot be reordered,
dropped, repeated, cut off, appended or moved from another file without DecryptionError.

A write goes to a temporary file (".partial-…") in the target's folder and is linked into
place only once complete and flushed, so a failed write (a full disk) leaves no partial file
under its name. Re-encryption (key rotation, encrypting legacy plaintext) replaces a file
atomically in the same way.
"""

import base64
import contextlib
import datetime
import io
import logging
import os
import struct
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage
from django.utils.deconstruct import deconstructible

from citizens import crypto
from citizens.crypto import DecryptionError

logger = logging.getLogger(__name__)

MAGIC = b"PWFE1\n"
_ID_BYTES = 16
HEADER_BYTES = len(MAGIC) + _ID_BYTES
CHUNK_SIZE = 64 * 1024
_LENGTH = struct.Struct(">I")
_CHUNK_HEAD = struct.Struct(">16sQ?")  # file id, chunk index, last chunk
PARTIAL_PREFIX = ".partial-"
# A chunk's token is about CHUNK_SIZE + 100 bytes: anything far larger is not ours.
_MAX_FRAME = CHUNK_SIZE + 4096


def _write_frame(out: IO[bytes], file_id: bytes, index: int, last: bool, data: bytes) -> None:
    token = crypto.encrypt_bytes(_CHUNK_HEAD.pack(file_id, index, last) + data)
    raw = base64.urlsafe_b64decode(token)
    out.write(_LENGTH.pack(len(raw)))
    out.write(raw)


def encrypt_chunks(chunks: Iterable[bytes | str], out: IO[bytes]) -> int:
    """Write the encrypted form of the data to `out`; returns how many bytes it had."""
    file_id = os.urandom(_ID_BYTES)
    out.write(MAGIC + file_id)
    pending = bytearray()
    index = total = 0
    for piece in chunks:
        data = piece.encode() if isinstance(piece, str) else piece
        pending += data
        total += len(data)
        # A full chunk is written only once more data follows, so the last one is flagged.
        while len(pending) > CHUNK_SIZE:
            _write_frame(out, file_id, index, False, bytes(pending[:CHUNK_SIZE]))
            del pending[:CHUNK_SIZE]
            index += 1
    _write_frame(out, file_id, index, True, bytes(pending))
    return total


def _write_atomically(
    path: str, chunks: Iterable[bytes | str], *, replace: bool, mode: int | None = None
) -> str:
    """Encrypt into a temporary file beside `path`, then put it in place: linked (never over
    an existing file; FileExistsError) or, with `replace`, renamed over the old one. Returns
    the path written. Nothing is left behind when any step fails."""
    directory = os.path.dirname(path)
    fd, partial = tempfile.mkstemp(dir=directory, prefix=PARTIAL_PREFIX)
    try:
        with os.fdopen(fd, "wb") as out:
            encrypt_chunks(chunks, out)
            out.flush()
            os.fsync(out.fileno())
        if mode is not None:
            os.chmod(partial, mode)
        if replace:
            os.replace(partial, path)
        else:
            os.link(partial, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
    return path


class DecryptingReader(io.RawIOBase):
    """The plaintext of an encrypted file, seekable, holding one decrypted chunk at a time."""

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__()
        self._raw = raw
        try:
            header = raw.read(HEADER_BYTES)
            if len(header) != HEADER_BYTES or not header.startswith(MAGIC):
                raise DecryptionError("not an encrypted file")
            self._file_id = header[len(MAGIC) :]
            self._frames = self._frame_offsets()
            self._index = -1
            self._data = b""
            self._load(len(self._frames) - 1)
            self.size = (len(self._frames) - 1) * CHUNK_SIZE + len(self._data)
        except BaseException:
            raw.close()
            raise
        self._position = 0

    def _frame_offsets(self) -> list[int]:
        end = os.fstat(self._raw.fileno()).st_size
        offsets = []
        offset = HEADER_BYTES
        while offset < end:
            self._raw.seek(offset)
            head = self._raw.read(_LENGTH.size)
            if len(head) != _LENGTH.size:
                raise DecryptionError("encrypted file cut off")
            (length,) = _LENGTH.unpack(head)
            if length > _MAX_FRAME or offset + _LENGTH.size + length > end:
                raise DecryptionError("encrypted file cut off")
            offsets.append(offset)
            offset += _LENGTH.size + length
        if not offsets:
            raise DecryptionError("encrypted file cut off")
        return offsets

    def _load(self, index: int) -> None:
        self._raw.seek(self._frames[index])
        (length,) = _LENGTH.unpack(self._raw.read(_LENGTH.size))
        token = base64.urlsafe_b64encode(self._raw.read(length))
        plain = crypto.decrypt_bytes(token)
        if len(plain) < _CHUNK_HEAD.size:
            raise DecryptionError("not a chunk of an encrypted file")
        file_id, stored_index, last = _CHUNK_HEAD.unpack_from(plain)
        data = plain[_CHUNK_HEAD.size :]
        if (
            file_id != self._file_id
            or stored_index != index
            or last != (index == len(self._frames) - 1)
            or (not last and len(data) != CHUNK_SIZE)
        ):
            raise DecryptionError("encrypted file's chunks out of order")
        self._index, self._data = index, data

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._position = base + offset
        return self._position

    def readinto(self, buffer: Any) -> int:
        if self._position >= self.size:
            return 0
        index, start = divmod(self._position, CHUNK_SIZE)
        if index != self._index:
            self._load(index)
        count = min(len(buffer), len(self._data) - start)
        buffer[:count] = self._data[start : start + count]
        self._position += count
        return count

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


def open_decrypted(path: str) -> io.BufferedReader:
    """The plaintext of the encrypted file at `path`, streamed (DecryptionError if it is not
    an intact file encrypted under a configured key)."""
    return io.BufferedReader(DecryptingReader(open(path, "rb")), buffer_size=CHUNK_SIZE)


class DecryptedFile(File):  # type: ignore[type-arg]
    """What the storage opens: the plaintext stream, reopened (decrypting) after a close."""

    def __init__(self, path: str, name: str) -> None:
        self._path = path
        super().__init__(open_decrypted(path), name)

    @property
    def size(self) -> int:
        return self.file.raw.size  # type: ignore[union-attr,no-any-return]

    def open(self, mode: str | None = None, *args: Any, **kwargs: Any) -> "DecryptedFile":
        if mode not in (None, "rb"):
            raise ValueError("Encrypted files are only opened for reading, as bytes ('rb').")
        if self.closed:
            self.file = open_decrypted(self._path)
        else:
            self.seek(0)
        return self


@deconstructible(path="citizens.filecrypt.EncryptedFileSystemStorage")
class EncryptedFileSystemStorage(FileSystemStorage):
    """FileSystemStorage whose files are encrypted at rest (see the module's docstring)."""

    def _open(self, name: str, mode: str = "rb") -> File:  # type: ignore[type-arg]
        if mode != "rb":
            raise ValueError("Encrypted files are only opened for reading, as bytes ('rb').")
        return DecryptedFile(self.path(name), name)

    def _save(self, name: str, content: File) -> str:  # type: ignore[type-arg]
        full_path = self.path(name)
        directory = os.path.dirname(full_path)
        os.makedirs(directory, exist_ok=True)
        if self.directory_permissions_mode is not None:
            os.chmod(directory, self.directory_permissions_mode)
        while True:
            try:
                _write_atomically(
                    full_path,
                    content.chunks(),
                    replace=False,
                    mode=self.file_permissions_mode,
                )
            except FileExistsError:
                name = self.get_available_name(name)
                full_path = self.path(name)
            else:
                break
        return os.path.relpath(full_path, self.location).replace("\\", "/")

    def size(self, name: str) -> int:
        with open_decrypted(self.path(name)) as stream:
            return stream.raw.size  # type: ignore[attr-defined,no-any-return]


def _storage_root() -> str:
    return str(settings.MEDIA_ROOT)


def stored_paths(root: str | None = None) -> Iterator[str]:
    """Every regular file under the storage root (no partial writes, no symlinks)."""
    for folder, _dirs, names in os.walk(root or _storage_root()):
        for name in sorted(names):
            path = os.path.join(folder, name)
            if not name.startswith(PARTIAL_PREFIX) and not os.path.islink(path):
                yield path


def is_encrypted(path: str) -> bool:
    with open(path, "rb") as handle:
        return handle.read(len(MAGIC)) == MAGIC


def _first_token(path: str) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(HEADER_BYTES)
        (length,) = _LENGTH.unpack(handle.read(_LENGTH.size))
        return base64.urlsafe_b64encode(handle.read(length))


def _plain_chunks(path: str) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        while data := handle.read(CHUNK_SIZE):
            yield data


def _decrypted_chunks(path: str) -> Iterator[bytes]:
    with open_decrypted(path) as stream:
        while data := stream.read(CHUNK_SIZE):
            yield data


def _mode_of(path: str) -> int:
    return os.stat(path).st_mode & 0o777


def files_encrypt_plaintext(root: str | None = None) -> int:
    """Encrypt, in place, every file under the storage root that is still plaintext (written
    before files were encrypted). Idempotent: encrypted files are left alone. Returns how many
    files it encrypted."""
    done = 0
    for path in stored_paths(root):
        if not is_encrypted(path):
            _write_atomically(path, _plain_chunks(path), replace=True, mode=_mode_of(path))
            done += 1
    return done


@dataclass(frozen=True)
class Rotated:
    rotated: int
    unreadable: int


def files_rotate(root: str | None = None) -> Rotated:
    """Re-encrypt under the newest key every encrypted file that is not under it yet (the old
    keys must still be configured). Can be interrupted and run again. A file no configured key
    opens is left as it is and counted (logged by its path, which holds no personal data)."""
    rotated = unreadable = 0
    for path in stored_paths(root):
        if not is_encrypted(path) or crypto.under_newest_key(_first_token(path)):
            continue
        try:
            with open_decrypted(path):
                pass
        except DecryptionError:
            logger.warning("stored file cannot be decrypted with the configured keys: %s", path)
            unreadable += 1
            continue
        _write_atomically(path, _decrypted_chunks(path), replace=True, mode=_mode_of(path))
        rotated += 1
    return Rotated(rotated=rotated, unreadable=unreadable)


def files_decrypt(root: str | None = None) -> int:
    """Write every encrypted file back as plaintext: only the reverse of the migration that
    encrypted them (citizens 0012), for going back to a version that cannot read them."""
    done = 0
    for path in stored_paths(root):
        if is_encrypted(path):
            fd, partial = tempfile.mkstemp(dir=os.path.dirname(path), prefix=PARTIAL_PREFIX)
            try:
                with os.fdopen(fd, "wb") as plain, open_decrypted(path) as stream:
                    while data := stream.read(CHUNK_SIZE):
                        plain.write(data)
                os.chmod(partial, _mode_of(path))
                os.replace(partial, path)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(partial)
            done += 1
    return done


def partials_remove_stale(
    *, older_than: datetime.timedelta = datetime.timedelta(days=1), root: str | None = None
) -> int:
    """Remove temporary files of writes that never finished (a killed process); they hold
    only ciphertext, never a whole file. Returns how many were removed."""
    cutoff = time.time() - older_than.total_seconds()
    removed = 0
    for folder, _dirs, names in os.walk(root or _storage_root()):
        for name in names:
            path = os.path.join(folder, name)
            if name.startswith(PARTIAL_PREFIX) and os.lstat(path).st_mtime < cutoff:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
                    removed += 1
    return removed
