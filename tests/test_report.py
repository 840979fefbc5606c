"""The benchmark tables of eval/report.py: what each row shows, to how many digits, with blanks where a
model ran fewer passes than the table's columns."""

from types import SimpleNamespace

from dasl.eval import report


def test_a_heldout_row_pads_missing_passes_and_gives_the_best_pass_bins():
    bins = {"0-30": 1.234, "30-60": 2.0, "60-90": 3.456}
    row = report.heldout_row("default", "as run", [1.7461], 3, bins)
    assert row == ["default", "as run", "1.75", "", "", "1.23", "2.00", "3.46"]
    assert len(row) == len(report.heldout_columns(3))


def test_detection_and_group_rows():
    recall = {"0-30": 98.94, "30-60": 96.9, "60-90": 85.21, "all": 96.5}
    row = report.detection_row("mtcnn", recall, 0.0412, {"emma": (3, 3), "two": (1, 2)})
    assert row == ["mtcnn", "98.9", "96.9", "85.2", "96.5", "0.04", "3/3", "1/2"]
    summary = {"found_%": 71.33, "found_upright_%": 93.3, "found_turned_%": 3.2, "found_small_%": 69.5}
    summary |= {"nme_found": 3.291, "crop_nme_found": 2.836, "false_boxes": 0, "ms_per_picture": 123.6}
    assert report.groups_row("mtcnn", summary) == ["mtcnn", "71.3", "93.3", "3.2", "69.5", "3.29", "2.84", "0", "124"]
    assert len(report.GROUPS_COLUMNS) == 9


def test_throughput_and_stage_rows():
    r = SimpleNamespace(pipeline="default", photos=100, faces=95, stages_ms={"fit": 4.26}, photos_per_s=(14.83, 18.04))
    row = report.throughput_row(r, "AFLW sample", ["face boxes", "fit"])
    assert row == ["default", "AFLW sample", "100", "95", "14.8", "18.0", "0.0", "4.3"]
    assert report.throughput_columns(2, ["fit"])[-2:] == ("photos/s (2 processes)", "fit ms")
    assert report.stage_rows({"fit": 0.5}, 0) == [["fit", "0.50", "500.0"]]  # no input: per input of one


def test_a_table_holds_its_rows():
    table = report.new_table("t", ("a", "b"), [["x", "1"], ["y", "2"]])
    assert table.row_count == 2 and [c.header for c in table.columns] == ["a", "b"]
