"""Containerized tasks, declared once and run two ways.

A `ContainerSpec` says what a task needs: image, console script, environment, mounts, GPU, secrets. The
`ContainerTaskOperator` built from it IS a DockerOperator (image, the lake bind-mounted, secrets as private
environment, device_requests for a GPU, auto_remove, no tmp mount, network mode from configuration); at run
time, with the runtime setting `container_runtime` = `local` (Airflow Variable or CONTAINER_RUNTIME; the
default is local where no Docker engine answers), it runs the same console script with the same arguments in
the image's own virtual environment (.venvs/<name>) instead. Either way the last line of stdout (the CLIs'
JSON summary) is the task's XCom, and DAG files do not change.

Arguments may name `{lake}`, `{export}` and `{models}`: each becomes the path of that folder as the command
sees it (the container's mount point under docker, the host path under local).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import signal
import subprocess
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path

from airflow.providers.docker.operators.docker import DockerOperator
from docker.types import DeviceRequest, Mount

from medical_telegram import lake
from medical_telegram.orchestration import settings
from medical_telegram.paths import PROJECT_DIR

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Volume:
    """A host folder a command needs, and where the container sees it."""

    placeholder: str  # the {name} used in arguments
    host: Callable[[], Path]  # resolved at parse time for the Mount, at run time for local runs
    target: str
    read_only: bool = False
    host_env: str | None = None  # overrides the host path for the Docker engine (Airflow in a container)

    def host_path(self) -> str:
        if self.host_env and os.environ.get(self.host_env):
            return os.environ[self.host_env]
        return str(self.host())


@dataclasses.dataclass(frozen=True)
class ContainerSpec:
    name: str  # also the name of its venv under .venvs/
    image: str
    entrypoint: str  # the console script, in the image and in the venv
    volumes: tuple[Volume, ...] = ()
    environment: dict[str, str] = dataclasses.field(default_factory=dict)
    gpu: bool = False
    secrets: Callable[[], dict[str, str]] | None = None  # private environment, resolved at run time
    passthrough: tuple[str, ...] = ()  # settings copied from the worker's environment when set there


LAKE = Volume("lake", lake.lake_dir, "/data", host_env="LAKE_HOST_DIR")
EXPORT = Volume("export", settings.export_path, "/export", read_only=True, host_env="EXPORT_HOST_DIR")
MODELS = Volume("models", lambda: PROJECT_DIR / "models", "/models", read_only=True,
                host_env="MODELS_HOST_DIR")

_IMAGES = settings.DagSettings()  # the image names, fixed when this module is imported

SCRAPER = ContainerSpec(
    name="scraper",
    image=_IMAGES.scraper_image,
    entrypoint="telegram-scraper",
    volumes=(LAKE, EXPORT),
    environment={"DATA_LAKE_DIR": "{lake}"},
    secrets=settings.telegram_credentials,
)
DETECTOR = ContainerSpec(
    name="yolo",
    image=_IMAGES.detector_image,
    entrypoint="yolo-detect",
    volumes=(LAKE, MODELS),
    # The detection model settings: weights file under models/ (scripts/fetch_offline_model.sh), no hub.
    environment={"DATA_LAKE_DIR": "{lake}", "YOLO_OFFLINE": "1",
                 "YOLO_WEIGHTS": "{models}/" + _IMAGES.yolo_weights_file},
    gpu=True,
    passthrough=("YOLO_DEVICE", "YOLO_BATCH_SIZE", "YOLO_CONF", "YOLO_IMGSZ", "YOLO_THREADS", "YOLO_MODEL_NAME"),
)
SPECS = {spec.name: spec for spec in (SCRAPER, DETECTOR)}


def fill(value: str, paths: dict[str, str]) -> str:
    for name, path in paths.items():
        value = value.replace("{" + name + "}", path)
    return value


def _gpu_requests(spec: ContainerSpec) -> list[DeviceRequest] | None:
    if not spec.gpu or not settings.DagSettings().container_gpu:
        return None
    return [DeviceRequest(count=-1, capabilities=[["gpu"]])]


class ContainerTaskOperator(DockerOperator):
    """A DockerOperator for a ContainerSpec that can also run the same command in the spec's venv."""

    def __init__(self, *, spec_name: str, command: list[str] | None = None, **kwargs):
        spec = SPECS[spec_name]
        dag_settings = settings.DagSettings()
        kwargs.setdefault("network_mode", dag_settings.container_network_mode)
        # Under Celery a GPU task goes to the queue only the GPU's worker serves (GPU_QUEUE, e.g. gpu).
        if spec.gpu and dag_settings.gpu_queue:
            kwargs.setdefault("queue", dag_settings.gpu_queue)
        super().__init__(
            image=spec.image,
            entrypoint=[spec.entrypoint],
            command=list(command or []),
            environment={k: fill(v, self._paths(spec, "docker")) for k, v in spec.environment.items()},
            mounts=[Mount(target=v.target, source=v.host_path(), type="bind", read_only=v.read_only)
                    for v in spec.volumes],
            device_requests=_gpu_requests(spec),
            auto_remove="success",
            mount_tmp_dir=False,
            **kwargs,
        )
        self.spec_name = spec_name

    @staticmethod
    def _paths(spec: ContainerSpec, runtime: str) -> dict[str, str]:
        if runtime == "docker":
            return {v.placeholder: v.target for v in spec.volumes}
        return {v.placeholder: str(v.host()) for v in spec.volumes}

    def _passthrough(self) -> dict[str, str]:
        return {name: os.environ[name] for name in self.spec.passthrough if os.environ.get(name)}

    @property
    def spec(self) -> ContainerSpec:
        return SPECS[self.spec_name]

    def _runtime(self) -> str:
        """The configured runtime; unconfigured, docker only where an engine answers and holds the image
        (a machine with Docker but without the project's images runs the venvs instead)."""
        configured = settings.RunSettings.read("container_runtime").container_runtime
        if configured:
            return configured
        if settings.DagSettings().docker_available():
            try:
                if self.cli.images(name=self.image):
                    return "docker"
                self.log.info("image %s is not built here: running %s in its venv", self.image, self.spec_name)
            except Exception as exc:  # an engine that does not answer: same as none
                self.log.info("Docker engine not usable (%s): running %s in its venv", exc, self.spec_name)
        return "local"

    def execute(self, context):
        runtime = self._runtime()
        secrets = self.spec.secrets() if self.spec.secrets else {}
        if runtime == "local":
            result = self.execute_local(secrets)
        else:
            self.command = [fill(str(arg), self._paths(self.spec, "docker")) for arg in self.command]
            self._private_environment = {**self._private_environment, **secrets}
            # The image's own user (Airflow's uid 50000) unless CONTAINER_USER says otherwise, e.g. "$(id -u):0"
            # for a lake owned by the user running Airflow.
            self.user = self.user or settings.DagSettings().container_user
            self.environment.update(self._passthrough())
            result = super().execute(context)
        # The summary's totals go on this task's Asset events, so the Assets view shows what changed.
        totals = summary(result).get("totals")
        if totals and self.outlets:
            for outlet in self.outlets:
                context["outlet_events"][outlet].extra = {"runtime": runtime, **totals}
        return result

    def execute_local(self, secrets: dict[str, str]) -> str | None:
        paths = self._paths(self.spec, "local")
        argv = [venv_executable(self.spec.name, self.spec.entrypoint),
                *(fill(str(arg), paths) for arg in self.command)]
        environment = {k: fill(v, paths) for k, v in self.spec.environment.items()}
        return run_local(argv, {**environment, **secrets}, logger=self.log, started=self._started)

    def _started(self, process: subprocess.Popen) -> None:
        self._local_process = process

    def on_kill(self) -> None:
        """A killed task (a timeout, a user's "mark failed") takes its local process group down with it, so no
        scraper or detector keeps writing beside the retry; a container is DockerOperator's to stop."""
        process = getattr(self, "_local_process", None)
        if process is not None:
            stop_process_group(process, self.log)
        else:
            super().on_kill()


def venv_executable(venv: str, name: str) -> str:
    """The console script `name` of one of the project's image venvs (.venvs/<venv>/bin/<name>)."""
    candidate = PROJECT_DIR / ".venvs" / venv / "bin" / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    raise FileNotFoundError(
        f"{name} not found in {candidate.parent} nor on PATH: run `make setup` to build .venvs/{venv}"
    )


def stop_process_group(process: subprocess.Popen, logger: logging.Logger = log, grace_s: float = 10) -> None:
    """SIGTERM to the process's group, then SIGKILL to whatever of the group is left after `grace_s`."""
    if process.poll() is not None:
        return
    logger.warning("stopping process group %d (%s)", process.pid, process.args[0] if process.args else "?")
    _signal_group(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        pass
    _signal_group(process.pid, signal.SIGKILL)  # the leader if it held on, or children it left behind
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        logger.error("process %d did not stop", process.pid)


def _signal_group(group: int, sig: int) -> None:
    try:
        os.killpg(group, sig)
    except ProcessLookupError:  # nothing of the group is left
        pass


def run_local(argv: list[str], environment: dict[str, str], logger: logging.Logger = log,
              started: Callable[[subprocess.Popen], None] | None = None) -> str | None:
    """Run a console script as DockerOperator runs a container: stream its output to the log, fail on a
    non-zero exit, return the last line of stdout (the JSON summary).

    `environment` adds to this process's environment; its values (secrets among them) are never logged.
    """
    logger.info("running locally: %s", " ".join(argv))
    env = {**os.environ, **environment}
    env.pop("PYTHONPATH", None)  # the venv's own packages, not Airflow's
    # A session (and process group) of its own: on_kill stops the console script and whatever it started.
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                               bufsize=1, start_new_session=True)
    if started:
        started(process)
    stderr_tail: deque[str] = deque(maxlen=20)

    def drain_stderr() -> None:
        for line in process.stderr:
            line = line.rstrip("\n")
            stderr_tail.append(line)
            logger.info("%s", line)

    reader = threading.Thread(target=drain_stderr, daemon=True)
    reader.start()
    last = None
    for line in process.stdout:
        line = line.rstrip("\n")
        logger.info("%s", line)
        if line.strip():
            last = line
    code = process.wait()
    reader.join(timeout=10)
    if code != 0:
        tail = " | ".join(stderr_tail)[-800:]
        raise RuntimeError(f"{Path(argv[0]).name} exited with code {code}: {tail}")
    return last


def summary(line: str | None) -> dict:
    """The JSON summary a container task returned (its last stdout line), or {} when it printed none."""
    if not line:
        return {}
    try:
        value = json.loads(line)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
