"""The report's words and number formats in English and Chinese.

Numbers, money, percentages and dates go through Babel (CLDR data) for the locale; Chinese
money above 10,000 is grouped in 万 and 亿 as Chinese readers expect (``US$133.8万``,
``US$1.2亿``), English money carries the currency code and thousands separators
(``USD 1,338,466``).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel.dates import format_skeleton
from babel.numbers import format_currency, format_decimal, format_percent

LANGS = ("en", "zh")
LOCALES = {"en": "en_US", "zh": "zh_Hans_CN"}
CURRENCY = "USD"

TEXT: dict[str, dict[str, str]] = {
    "title_sales": {"en": "Monthly sales report", "zh": "销售月报"},
    "title_finance": {"en": "Monthly sales and payouts report (finance)", "zh": "销售与提成月报（财务版）"},
    "generated": {
        "en": "Generated {at} from the salesops marts",
        "zh": "生成于 {at}，数据来自 salesops 数据集市",
    },
    "contents": {"en": "Contents", "zh": "目录"},
    "headline": {"en": "Headline figures", "zh": "核心指标"},
    "metric": {"en": "Measure", "zh": "指标"},
    "this_month": {"en": "This month", "zh": "本月"},
    "prev_month": {"en": "Previous month", "zh": "上月"},
    "year_ago": {"en": "Same month last year", "zh": "去年同月"},
    "vs_prev": {"en": "vs previous month", "zh": "环比"},
    "vs_year": {"en": "vs last year", "zh": "同比"},
    "won_revenue": {"en": "Won revenue", "zh": "成交金额"},
    "orders": {"en": "Orders", "zh": "订单数"},
    "order_revenue": {"en": "Order revenue", "zh": "订单金额"},
    "deals_won": {"en": "Deals won", "zh": "赢单数"},
    "deals_lost": {"en": "Deals lost", "zh": "输单数"},
    "win_rate": {"en": "Win rate", "zh": "赢单率"},
    "avg_deal_size": {"en": "Average deal size", "zh": "平均客单价"},
    "avg_days_to_close": {"en": "Days to close", "zh": "平均成交周期（天）"},
    "avg_csat": {"en": "CSAT (1-5)", "zh": "客户满意度（1-5）"},
    "nps": {"en": "NPS", "zh": "净推荐值（NPS）"},
    "attainment": {"en": "Quota attainment", "zh": "配额完成率"},
    "trend": {"en": "Revenue trend, quota and forecast", "zh": "收入趋势、配额与预测"},
    "actual": {"en": "Won revenue", "zh": "实际成交"},
    "quota": {"en": "Quota", "zh": "配额"},
    "forecast": {"en": "Forecast", "zh": "预测"},
    "interval_80": {"en": "80% interval", "zh": "80% 区间"},
    "interval_95": {"en": "95% interval", "zh": "95% 区间"},
    "forecast_note": {
        "en": "Forecast as of {month} (model {model}, version {version}).",
        "zh": "预测基准月 {month}（模型 {model}，版本 {version}）。",
    },
    "funnel": {"en": "Funnel by channel", "zh": "各渠道销售漏斗"},
    "funnel_note": {
        "en": "Leads and opportunities created in {month}, by the stage they reached.",
        "zh": "{month} 新建的线索与商机，按到达的阶段统计。",
    },
    "conversion_heatmap": {"en": "Conversion to the next stage", "zh": "阶段转化率"},
    "channel": {"en": "Channel", "zh": "渠道"},
    "stage": {"en": "Stage", "zh": "阶段"},
    "entered": {"en": "Entered", "zh": "进入"},
    "leads": {"en": "Leads", "zh": "线索数"},
    "responded": {"en": "Responded", "zh": "已跟进"},
    "converted": {"en": "Converted", "zh": "已转化"},
    "median_response_hours": {"en": "Median first response (hours)", "zh": "首次响应中位数（小时）"},
    "response_times": {"en": "Lead response by channel", "zh": "各渠道线索响应"},
    "loss_reasons": {"en": "Loss reasons", "zh": "输单原因"},
    "loss_reason": {"en": "Reason", "zh": "原因"},
    "lost_value": {"en": "Lost list value", "zh": "输单标价金额"},
    "segments": {"en": "Customer segments", "zh": "客户细分"},
    "industry": {"en": "Industry", "zh": "行业"},
    "region": {"en": "Region", "zh": "区域"},
    "rfm": {"en": "RFM segment", "zh": "RFM 分层"},
    "customers": {"en": "Customers", "zh": "客户数"},
    "lifetime_revenue": {"en": "Lifetime revenue", "zh": "累计成交金额"},
    "revenue_by_industry": {"en": "Won revenue by customer industry", "zh": "按客户行业的成交金额"},
    "revenue_by_region": {"en": "Won revenue by customer region", "zh": "按客户区域的成交金额"},
    "customers_by_rfm": {"en": "Customers by RFM segment (all time)", "zh": "各 RFM 分层客户数（累计）"},
    "leaderboard": {"en": "Rep and team leaderboard", "zh": "销售与团队排行榜"},
    "rank": {"en": "Rank", "zh": "排名"},
    "rank_change": {"en": "Rank change", "zh": "名次变化"},
    "rep": {"en": "Rep", "zh": "销售"},
    "team": {"en": "Team (manager)", "zh": "团队（经理）"},
    "reps": {"en": "Reps", "zh": "人数"},
    "trend_arrow": {"en": "Trend", "zh": "趋势"},
    "team_revenue_chart": {"en": "Won revenue by team, with quota", "zh": "各团队成交金额与配额"},
    "rep_heatmap": {"en": "Won revenue by rep, last six months", "zh": "销售近六个月成交金额"},
    "training": {"en": "Training needs", "zh": "培训需求"},
    "training_note": {
        "en": "Reps well below their peers on a measure, over the whole history.",
        "zh": "在某项指标上明显落后于同组的销售（全部历史数据）。",
    },
    "measure": {"en": "Measure", "zh": "指标"},
    "rep_value": {"en": "Rep", "zh": "本人"},
    "peer_baseline": {"en": "Peers", "zh": "同组基准"},
    "gap": {"en": "Gap", "zh": "差距"},
    "priority": {"en": "Priority", "zh": "优先级"},
    "suggested_training": {"en": "Suggested training", "zh": "建议培训"},
    "payouts": {"en": "Payouts", "zh": "提成发放"},
    "payouts_by_team": {"en": "Payouts by team", "zh": "各团队提成"},
    "payout_run": {
        "en": "Payout run {run} for {month}, {status}.",
        "zh": "{month} 提成计算批次 {run}，{status}。",
    },
    "locked": {"en": "locked", "zh": "已锁定"},
    "open": {"en": "not locked yet", "zh": "尚未锁定"},
    "earned": {"en": "Earned", "zh": "应得提成"},
    "draws": {"en": "Draws", "zh": "预支"},
    "recoveries": {"en": "Recoveries", "zh": "预支回收"},
    "adjustments": {"en": "Adjustments", "zh": "调整"},
    "clawbacks": {"en": "Clawbacks", "zh": "追回"},
    "payable": {"en": "Payable", "zh": "应付"},
    "accruals": {"en": "Accruals for {month}", "zh": "{month} 预提"},
    "open_deals": {"en": "Open deals", "zh": "在途商机"},
    "expected_bookings": {"en": "Expected bookings", "zh": "预计成交"},
    "expected_commission": {"en": "Expected commission", "zh": "预计提成"},
    "adjustment_list": {"en": "Manual adjustments in {month}", "zh": "{month} 手工调整"},
    "reason": {"en": "Reason", "zh": "原因"},
    "approved_by": {"en": "Approved by", "zh": "审批人"},
    "amount": {"en": "Amount", "zh": "金额"},
    "total": {"en": "Total", "zh": "合计"},
    "none": {"en": "None.", "zh": "无。"},
    "missing": {"en": "Not available: {what}", "zh": "暂无数据：{what}"},
    "no_forecast": {
        "en": "no revenue forecast as of {month} or earlier (the forecast DAG writes them)",
        "zh": "{month} 及之前没有收入预测（由预测 DAG 生成）",
    },
    "no_quota": {
        "en": "no quotas for {month} (`salesops quotas load`)",
        "zh": "{month} 没有配额（`salesops quotas load`）",
    },
    "no_payouts": {
        "en": "no payout run for {month} (`salesops payouts run --period {month}`)",
        "zh": "{month} 没有提成计算（`salesops payouts run --period {month}`）",
    },
    "no_rows": {"en": "no {what} in {month}", "zh": "{month} 没有{what}"},
    "sort_hint": {"en": "Click a column header to sort.", "zh": "点击表头可排序。"},
    "masked_note": {
        "en": "Sales edition: read as bi_reader, personal data masked.",
        "zh": "销售版：以 bi_reader 身份读取，个人信息已脱敏。",
    },
    "finance_note": {
        "en": "Finance edition: read as finance_reader.",
        "zh": "财务版：以 finance_reader 身份读取。",
    },
    "rank_new": {"en": "new", "zh": "新"},
    "period": {"en": "Month", "zh": "月份"},
    "accruals_title": {"en": "Accruals (open pipeline)", "zh": "预提（在途商机）"},
}

# Values of the marts shown as words.
STAGES = {
    "lead": {"en": "Lead", "zh": "线索"},
    "contacted": {"en": "Contacted", "zh": "已联系"},
    "prospecting": {"en": "Prospecting", "zh": "初步接洽"},
    "engaging": {"en": "Engaging", "zh": "商务洽谈"},
    "won": {"en": "Won", "zh": "赢单"},
}
CHANNELS = {
    "ad_leads": {"en": "Ads", "zh": "广告"},
    "crm_export": {"en": "CRM", "zh": "CRM 商机"},
    "marketing_events": {"en": "Events", "zh": "市场活动"},
    "referrals": {"en": "Referrals", "zh": "转介绍"},
    "web_forms": {"en": "Web forms", "zh": "官网表单"},
    "activities": {"en": "Activities", "zh": "销售活动"},
    "orders": {"en": "Orders", "zh": "订单"},
    "surveys": {"en": "Surveys", "zh": "问卷"},
}
RFM = {
    "champion": {"en": "Champions", "zh": "重要价值"},
    "loyal": {"en": "Loyal", "zh": "忠诚"},
    "promising": {"en": "Promising", "zh": "潜力"},
    "needs_attention": {"en": "Needs attention", "zh": "需关注"},
    "at_risk": {"en": "At risk", "zh": "流失风险"},
    "prospect": {"en": "Prospects", "zh": "潜在客户"},
}
PRIORITY = {
    "high": {"en": "high", "zh": "高"},
    "medium": {"en": "medium", "zh": "中"},
    "low": {"en": "low", "zh": "低"},
}
METRICS = {
    "activities_per_month": {"en": "activities per month", "zh": "月均活动数"},
    "avg_first_response_hours": {"en": "first response (hours)", "zh": "首次响应（小时）"},
    "avg_days_to_close": {"en": "days to close", "zh": "成交周期（天）"},
    "lead_to_contacted_rate": {"en": "lead → contacted", "zh": "线索跟进率"},
    "prospecting_to_engaging_rate": {"en": "prospecting → engaging", "zh": "接洽转商谈率"},
    "engaging_to_won_rate": {"en": "engaging → won", "zh": "商谈赢单率"},
    "avg_csat": {"en": "CSAT", "zh": "客户满意度"},
}
# The suggested training of marts.training_needs (one per measure) in Chinese; English is the mart's.
TRAINING_ZH = {
    "lead_to_contacted_rate": "线索跟进：及时联系每一条新线索",
    "prospecting_to_engaging_rate": "需求挖掘与资格判断：把潜在客户推进到商务洽谈",
    "engaging_to_won_rate": "谈判与成交：把洽谈中的商机转化为赢单",
    "avg_days_to_close": "成交节奏：缩短从洽谈到成交的周期",
    "activities_per_month": "活动规划：每月更多的电话、邮件和拜访",
    "avg_first_response_hours": "快速响应：更快回复新线索",
    "avg_csat": "客户关怀：提升售后满意度",
}


class Words:
    """Labels and formatters of one language."""

    def __init__(self, lang: str):
        if lang not in LANGS:
            raise ValueError(f"language {lang!r}: choose one of {', '.join(LANGS)}")
        self.lang = lang
        self.locale = LOCALES[lang]

    def __call__(self, key: str, **values) -> str:
        return TEXT[key][self.lang].format(**values)

    def word(self, table: dict[str, dict[str, str]], value) -> str:
        """A mart value in words (stage, channel, segment...), or the value itself."""
        if value is None:
            return "—"
        return table.get(str(value), {}).get(self.lang, str(value).replace("_", " "))

    def month(self, value: date) -> str:
        return format_skeleton("yMMM" if self.lang == "zh" else "yMMMM", value, locale=self.locale)

    def short_month(self, value: date) -> str:
        return format_skeleton("yyMM" if self.lang == "zh" else "MMMyy", value, locale=self.locale)

    def number(self, value, digits: int = 0) -> str:
        if value is None:
            return "—"
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(Decimal(value), pattern, locale=self.locale)

    def money(self, value, cents: bool = False) -> str:
        """``USD 1,338,466`` in English; ``US$133.8万`` (万/亿 above 10,000) in Chinese; to the cent
        (never grouped in 万) when ``cents``."""
        if value is None:
            return "—"
        value = Decimal(value)
        if self.lang == "zh" and abs(value) >= 10_000 and not cents:
            unit, word = (Decimal(10) ** 8, "亿") if abs(value) >= 10**8 else (Decimal(10_000), "万")
            return "US$" + format_decimal(value / unit, "#,##0.0", locale=self.locale) + word
        if self.lang == "zh":
            return format_currency(
                value, CURRENCY, "¤#,##0.00" if cents else "¤#,##0", locale=self.locale, currency_digits=False
            )
        return format_currency(
            value, CURRENCY, "¤¤ #,##0.00" if cents else "¤¤ #,##0", locale=self.locale, currency_digits=False
        )

    def percent(self, value, signed: bool = False) -> str:
        if value is None:
            return "—"
        pattern = "+#,##0.0%;-#,##0.0%" if signed else "#,##0.0%"
        return format_percent(Decimal(value), pattern, locale=self.locale)

    def change(self, now, before, ratio: bool = False) -> str:
        """The change from ``before`` to ``now``: points for a ratio, else percent."""
        if now is None or before is None:
            return "—"
        if ratio:
            points = (Decimal(now) - Decimal(before)) * 100
            return format_decimal(points, "+#,##0.0;-#,##0.0", locale=self.locale) + (
                " 个百分点" if self.lang == "zh" else " pts"
            )
        if Decimal(before) == 0:
            return "—"
        return self.percent((Decimal(now) - Decimal(before)) / Decimal(before), signed=True)
