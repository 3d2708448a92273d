"""The app's pages, declared once: `app.py` builds the navigation from this list and the tests
visit every entry (AppTest through `file`, the browser through `url_path`).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageSpec:
    """One page: its script (relative to app.py), menu title, URL path and Material icon."""

    file: str
    title: str
    url_path: str
    icon: str
    default: bool = False


PAGES: tuple[PageSpec, ...] = (
    PageSpec("app_pages/1_Overview.py", "Overview", "overview", ":material/dashboard:", default=True),
    PageSpec("app_pages/9_Customers.py", "Customers", "customers", ":material/groups:"),
    PageSpec("app_pages/2_Why_customers_churn.py", "Why customers churn", "why-customers-churn",
             ":material/insights:"),
    PageSpec("app_pages/3_Customer_what_if.py", "Customer what-if", "customer-what-if",
             ":material/tune:"),
    PageSpec("app_pages/4_Retention_campaign.py", "Retention campaign", "retention-campaign",
             ":material/campaign:"),
    PageSpec("app_pages/7_Campaign_results.py", "Campaign results", "campaign-results",
             ":material/query_stats:"),
    PageSpec("app_pages/5_Upload_and_score.py", "Upload & score", "upload-and-score",
             ":material/upload_file:"),
    PageSpec("app_pages/6_Model_report.py", "Model report", "model-report", ":material/analytics:"),
    PageSpec("app_pages/8_Model_health.py", "Model health", "model-health",
             ":material/monitor_heart:"),
)

BY_FILE: dict[str, PageSpec] = {p.file: p for p in PAGES}
MODEL_REPORT = "app_pages/6_Model_report.py"
UPLOAD = "app_pages/5_Upload_and_score.py"
CAMPAIGN = "app_pages/4_Retention_campaign.py"
RESULTS = "app_pages/7_Campaign_results.py"
MODEL_HEALTH = "app_pages/8_Model_health.py"
