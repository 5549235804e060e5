"""The file fuzzer and fault injector behind ``scripts/fuzz_files.py``: seed files per kind (``seeds``),
mutations (``mutators``, ``formats``), the fork-server runner (``runner``), kill -9 during writes
(``kills``), full-disk writes (``diskfull``) and the closing table (``report``)."""
