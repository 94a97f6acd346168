"""The run report: `<name>.report/report.html` and `pipeline inspect`."""
