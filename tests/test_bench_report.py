"""docs/benchmarks.md keeps the latest run of every benchmark: a run rewrites only its own."""

from benchmarks import __main__ as bench_main


def test_report_rewrites_only_the_blocks_of_the_benchmarks_run(tmp_path, monkeypatch) -> None:
    report = tmp_path / "benchmarks.md"
    report.write_text("# Benchmarks\n\n<!-- notes -->\n\n## Notes\n\nkept\n")
    monkeypatch.setattr(bench_main, "REPORT", report)
    order = ["seed_demo", "import", "skts"]

    bench_main._write_report({"skts": ["BENCH skts_ms_per_letter 95 ms"]}, order=order)
    bench_main._write_report({"import": ["BENCH import_apply_rows_per_s 9000 rows/s"]}, order=order)
    bench_main._write_report({"skts": ["BENCH skts_ms_per_letter 90 ms"]}, order=order)

    text = report.read_text()
    assert "BENCH import_apply_rows_per_s 9000 rows/s" in text
    assert "BENCH skts_ms_per_letter 90 ms" in text
    assert "95 ms" not in text
    assert text.index("bench:import") < text.index("bench:skts")
    assert text.endswith("## Notes\n\nkept\n")
