"""Message reports, dashboards (rollups) and streamed exports for supervisors."""
