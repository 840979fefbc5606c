"""``dasl serve``: an HTTP API and a web page over :class:`dasl.Reconstructor`, on Starlette.

Starlette, not Gradio: the API is three routes and the page one file of our own; Starlette (with uvicorn
and python-multipart) adds about 1 MB to an install where Gradio adds its own front end, FastAPI,
pandas and more, and a Gradio page cannot show a textured mesh without a third-party viewer fetched from the
internet. The page's 3D view is dasl's own WebGL (``static/viewer.js``): it reads the face's ``.glb``.

Routes:

* ``GET /``: the page: drop a photo, see the overlay, turn the textured mesh, download JSON / GLB / OBJ.
* ``POST /reconstruct``: multipart ``image`` (a photo file), optional ``model`` (one the server serves) and
  ``outputs`` (comma-separated, as ``dasl reconstruct --outputs``; ``json`` always). Answers the JSON that
  ``--outputs json`` writes, plus ``files``: kind -> URL of each file written. Errors are JSON
  ``{"error": ...}`` with 400 (not an image, a bad option), 413 (too large), 422 (no face found; the
  record is in the answer too), 503 (the server is at capacity).
* ``GET /files/<id>/<name>``: a result's files; ``GET /health``.

Results live in one temporary folder of the server, the oldest removed beyond ``keep`` results, the whole
folder at shutdown. Requests run in threads beside the event loop, each on one of ``workers``
reconstructors of its model (a reconstructor serves one request at a time).
"""

from __future__ import annotations

import queue
import re
import shutil
import tempfile
import threading
import uuid
from collections import OrderedDict
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from dasl.api import Reconstructor
from dasl.data.images import read_rgb
from dasl.errors import DaslError
from dasl.nets.onnx_runtime import set_inference_threads
from dasl.pipeline import OUTPUTS, made_with, write_photo_outputs

STATIC = Path(__file__).parent / "static"
#: what the page asks for, and a request without ``outputs``
DEFAULT_OUTPUTS = ("json", "overlay", "glb", "obj")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass
class ServeSettings:
    model: str = "default"
    models: tuple[str, ...] = ()  # further models a request may name
    workers: int = 2
    max_bytes: int = 25 * 1024 * 1024
    keep: int = 200
    shared: str | None = None


class HttpError(Exception):
    def __init__(self, status: int, message: str, record: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.record = status, message, record


class Service:
    """The reconstructors of each served model, the results folder, and the work of one request."""

    def __init__(self, settings: ServeSettings) -> None:
        self.settings = settings
        self.root = Path(tempfile.mkdtemp(prefix="dasl-serve-"))
        self.results: OrderedDict[str, Path] = OrderedDict()
        self.pools: dict[str, queue.Queue] = {}
        self.lock = threading.Lock()
        if settings.workers > 1:
            set_inference_threads(1)  # requests run side by side: a core each

    @property
    def served(self) -> tuple[str, ...]:
        return (self.settings.model, *self.settings.models)

    def pool(self, model: str) -> queue.Queue:
        with self.lock:
            if model not in self.pools:
                pool: queue.Queue = queue.Queue()
                for _ in range(self.settings.workers):
                    pool.put(Reconstructor(model=model, shared=self.settings.shared))
                self.pools[model] = pool
            return self.pools[model]

    def reconstruct(self, data: bytes, filename: str, model: str, kinds: list[str]) -> dict:
        suffix = Path(filename or "photo.jpg").suffix.lower() or ".jpg"
        key = uuid.uuid4().hex[:16]
        folder = self.root / key
        folder.mkdir()
        photo = folder / f"upload{suffix if _SAFE_NAME.match(suffix) else '.img'}"
        photo.write_bytes(data)
        try:
            image = read_rgb(photo)
        except DaslError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise HttpError(400, str(exc).replace(str(photo), filename or "the upload")) from None
        finally:
            photo.unlink(missing_ok=True)
        pool = self.pool(model)
        rec = pool.get()
        try:
            faces = rec.reconstruct(image)
            written = write_photo_outputs(image, faces, folder, Path("photo"), kinds, made=made_with(rec, kinds))
        finally:
            pool.put(rec)
        with self.lock:
            self.results[key] = folder
            while len(self.results) > self.settings.keep:
                _, old = self.results.popitem(last=False)
                shutil.rmtree(old, ignore_errors=True)
        record = {
            "id": key,
            "image": filename,
            "height": int(image.shape[0]),
            "width": int(image.shape[1]),
            "made_with": made_with(rec, kinds),
            "faces": [f.to_dict() for f in faces],
            "files": {_kind(p): f"/files/{key}/{p.name}" for p in written},
        }
        if not faces:
            raise HttpError(422, "no face found in the photo", record)
        return record

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _kind(path: Path) -> str:
    """A written file's key in ``files``: ``json``, ``overlay``, ``face0.glb``, ``face0_texture.png``..."""
    name = path.name.removeprefix("photo")
    return {".json": "json", "_overlay.png": "overlay", "_depth.png": "depth"}.get(name, name.lstrip("_"))


def _error(status: int, message: str, record: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": message, **(record or {})}, status_code=status)


def make_app(settings: ServeSettings | None = None) -> Starlette:
    """The Starlette application (see the module docstring)."""
    settings = settings or ServeSettings()
    service = Service(settings)
    limiter = anyio.CapacityLimiter(settings.workers)
    waiting = anyio.Semaphore(4 * settings.workers + 16)  # requests beyond it are told to come back

    async def page(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if not _SAFE_NAME.match(name) or not (STATIC / name).is_file():
            return _error(404, f"no such file: {name}")
        return FileResponse(STATIC / name)

    async def favicon(request: Request) -> Response:
        return Response(status_code=204)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "models": list(service.served), "outputs": list(OUTPUTS)})

    async def reconstruct(request: Request) -> Response:
        length = int(request.headers.get("content-length") or 0)
        if length > settings.max_bytes + 65536:
            return _error(413, f"the upload is {length} bytes; the limit is {settings.max_bytes}")
        try:
            form = await request.form(max_files=1, max_fields=8, max_part_size=settings.max_bytes + 1)
        except Exception as exc:  # malformed multipart bodies: Starlette raises several types
            return _error(400, f"not a multipart form with an image: {exc}")
        upload = form.get("image")
        if upload is None or isinstance(upload, str):
            return _error(400, "the form has no file field 'image'")
        data = await upload.read()
        if len(data) > settings.max_bytes:
            return _error(413, f"the image is {len(data)} bytes; the limit is {settings.max_bytes}")
        if not data:
            return _error(400, f"{upload.filename or 'the upload'}: the file is empty")
        model = str(form.get("model") or settings.model)
        if model not in service.served:
            return _error(400, f"model {model!r} is not served here; served: {', '.join(service.served)}")
        kinds = [k.strip() for k in str(form.get("outputs") or ",".join(DEFAULT_OUTPUTS)).split(",") if k.strip()]
        unknown = sorted(set(kinds) - set(OUTPUTS))
        if unknown:
            return _error(400, f"unknown outputs {unknown}; choose from {', '.join(OUTPUTS)}")
        if waiting.value == 0:
            return _error(503, "the server is at capacity; try again shortly")
        async with waiting:
            try:
                record = await anyio.to_thread.run_sync(
                    service.reconstruct, data, upload.filename or "", model, kinds, limiter=limiter
                )
            except HttpError as exc:
                return _error(exc.status, exc.message, exc.record)
            except DaslError as exc:
                return _error(400, str(exc))
        return JSONResponse(record)

    async def files(request: Request) -> Response:
        key, name = request.path_params["key"], request.path_params["name"]
        folder = service.results.get(key)
        if folder is None or not _SAFE_NAME.match(name) or not (folder / name).is_file():
            return _error(404, f"no such result file: {key}/{name}")
        return FileResponse(folder / name)

    @asynccontextmanager
    async def lifespan(app: Starlette):
        try:
            yield
        finally:
            service.close()

    app = Starlette(
        routes=[
            Route("/", page),
            Route("/static/{name}", static),
            Route("/health", health),
            Route("/favicon.ico", favicon),
            Route("/reconstruct", reconstruct, methods=["POST"]),
            Route("/files/{key}/{name}", files),
        ],
        lifespan=lifespan,
    )
    app.state.service = service
    return app
