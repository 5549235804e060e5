"""How ``main.py train --processes N`` reports ranks that failed, from the launcher's ``Outcome`` alone (no MPI):
a failure is told once, and never lost when the rank's own output did not come through."""

from cli.train_processes import _settle_failure
from engine.distributed.run import Outcome

REFUSAL = "net.llnet: cannot train in 2 processes: the last batch of each epoch would hold 1 image"


def failure(rank, time, message=REFUSAL):
    return {"rank": rank, "time": time, "exit_code": 2, "message": message, "traceback": ""}


def test_a_failure_whose_message_was_lost_with_the_abort_is_printed(tmp_path, capsys):
    # Rank 1 aborted every rank just as rank 0 printed the same refusal, which MPI never passed on.
    outcome = Outcome(2, [failure(1, 1.0), failure(0, 1.1)], [], output="")
    assert _settle_failure(str(tmp_path / "run"), outcome) == 2
    err = capsys.readouterr().err
    assert err.count(REFUSAL) == 1 and "rank 1 failed first" in err, err


def test_a_failure_already_in_the_output_is_not_said_again(tmp_path, capsys):
    outcome = Outcome(2, [failure(1, 1.0), failure(0, 1.1)], [], output=f"{REFUSAL}\n")
    assert _settle_failure(str(tmp_path / "run"), outcome) == 2
    assert capsys.readouterr().err == ""


def test_a_folder_made_for_a_run_that_never_started_is_removed(tmp_path, capsys):
    folder = tmp_path / "run"
    folder.mkdir()
    _settle_failure(str(folder), Outcome(1, [failure(0, 1.0, "ValueError: bad")], [], output=""))
    assert not folder.exists()
    assert "rank 0 failed first: ValueError: bad" in capsys.readouterr().err
