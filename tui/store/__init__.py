"""What warroom keeps on disk: the timeline, recordings, runbook and report files, incidents."""
