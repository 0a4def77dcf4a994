"""Vocabulary and templates for the synthetic export generator (``synth``).

Texts are composed from parts: an optional sentiment opener, a theme-specific core sentence
built from a template and slot fillers, an optional sentiment comment, emoji, mentions, hashtags
and a link. Indonesian and code-mixed strings also get informal variants (``gak``, ``yg``,
``udh``, ``bgt`` ...), compiled once so that choosing a register costs nothing per post.

Everything is precompiled into tuples at construction; ``compose`` only draws from them.
"""

from __future__ import annotations

import random
import re
import string

LANGS = ("id", "en", "mixed")
SENTIMENTS = ("positive", "neutral", "negative")
_SENT_INDEX = {s: i for i, s in enumerate(SENTIMENTS)}

# --------------------------------------------------------------------------------------------
# Themes: id, Indonesian label, English label, weight, sentiment mix (positive, neutral, negative)
# --------------------------------------------------------------------------------------------
THEMES: tuple[tuple[str, str, str, float, tuple[float, float, float]], ...] = (
    ("personal_branding", "Personal branding", "Personal branding", 0.07, (0.45, 0.35, 0.20)),
    ("careers", "Karier dan rekrutmen", "Careers and recruitment", 0.09, (0.30, 0.35, 0.35)),
    ("volunteering", "Relawan dan komunitas", "Volunteering and community", 0.05, (0.60, 0.30, 0.10)),
    ("mental_health", "Kesehatan mental", "Mental health and wellbeing", 0.07, (0.20, 0.25, 0.55)),
    ("misinformation", "Hoaks dan informasi palsu", "Misinformation and hoaxes", 0.07, (0.05, 0.35, 0.60)),
    ("cybercrime", "Kejahatan siber", "Cybercrime and online safety", 0.06, (0.05, 0.35, 0.60)),
    ("government", "Pemerintahan dan politik", "Government and politics", 0.09, (0.15, 0.35, 0.50)),
    ("business", "Bisnis dan layanan pelanggan", "Business and customer care", 0.08, (0.30, 0.20, 0.50)),
    ("news_politics", "Berita politik", "Politics news", 0.07, (0.15, 0.50, 0.35)),
    ("news_economy", "Berita ekonomi", "Economy news", 0.07, (0.20, 0.50, 0.30)),
    ("news_sports", "Olahraga", "Sports", 0.07, (0.45, 0.30, 0.25)),
    ("news_entertainment", "Hiburan dan selebritas", "Entertainment and celebrity", 0.05, (0.40, 0.35, 0.25)),
    ("news_science_tech", "Sains dan teknologi", "Science and technology", 0.06, (0.40, 0.45, 0.15)),
    ("news_health", "Kesehatan", "Health", 0.05, (0.25, 0.50, 0.25)),
    ("news_education", "Pendidikan", "Education", 0.05, (0.35, 0.40, 0.25)),
)
THEME_IDS = tuple(t[0] for t in THEMES)

# --------------------------------------------------------------------------------------------
# Domains
# --------------------------------------------------------------------------------------------
NEWS_DOMAINS = (
    "kompas.com",
    "detik.com",
    "tempo.co",
    "cnnindonesia.com",
    "antaranews.com",
    "liputan6.com",
    "tribunnews.com",
    "cnbcindonesia.com",
    "kumparan.com",
    "katadata.co.id",
    "republika.co.id",
    "thejakartapost.com",
    "bbc.com",
    "reuters.com",
    "apnews.com",
    "theguardian.com",
)
NEWS_PATHS = {
    "kompas.com": "https://www.kompas.com/read/{y}/{m}/{d}/{n6}/{slug}",
    "detik.com": "https://news.detik.com/berita/d-{n7}/{slug}",
    "tempo.co": "https://www.tempo.co/{section}/{slug}-{n7}",
    "cnnindonesia.com": "https://www.cnnindonesia.com/{section}/{y}{m}{d}{n6}-{n3}-{n7}/{slug}",
    "antaranews.com": "https://www.antaranews.com/berita/{n7}/{slug}",
    "liputan6.com": "https://www.liputan6.com/{section}/read/{n7}/{slug}",
    "tribunnews.com": "https://www.tribunnews.com/{section}/{y}/{m}/{d}/{slug}",
    "cnbcindonesia.com": "https://www.cnbcindonesia.com/{section}/{y}{m}{d}{n6}-{n1}-{n6}/{slug}",
    "kumparan.com": "https://kumparan.com/kumparan{section}/{slug}-{n2}{n6}",
    "katadata.co.id": "https://katadata.co.id/{section}/{slug}",
    "republika.co.id": "https://www.republika.co.id/berita/{n7}/{slug}",
    "thejakartapost.com": "https://www.thejakartapost.com/{section}/{y}/{m}/{d}/{slug}.html",
    "bbc.com": "https://www.bbc.com/indonesia/articles/c{n7}o",
    "reuters.com": "https://www.reuters.com/world/asia-pacific/{slug}-{y}-{m}-{d}/",
    "apnews.com": "https://apnews.com/article/{slug}-{n6}",
    "theguardian.com": "https://www.theguardian.com/world/{y}/{mon}/{d}/{slug}",
}
# Invented low-credibility sites: hoax-style portals and blogs (none is a real outlet).
LOW_CRED_DOMAINS = (
    "kabarheboh-terkini.xyz",
    "fakta-tersembunyi.info",
    "infoviral24.site",
    "suara-rakyat-news.online",
    "beritaaktual-hariini.net",
    "rahasia-sehat-alami.blogspot.com",
    "portalbocoran.top",
)
SHORTENERS = ("bit.ly", "s.id", "tinyurl.com")
SECTIONS = ("nasional", "ekonomi", "teknologi", "olahraga", "hiburan", "internasional", "news", "tekno")
MONTHS_EN = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")

# --------------------------------------------------------------------------------------------
# Handles mentioned in posts
# --------------------------------------------------------------------------------------------
# Public institutions people address directly.
OFFICIAL_HANDLES = (
    "KemenkesRI",
    "Kemnaker",
    "kemkomdigi",
    "DivHumas_Polri",
    "BPJSKesehatanRI",
    "humasjakarta",
    "KemenkeuRI",
    "Kemendikdasmen",
    "KPU_ID",
    "Bawaslu_RI",
    "DPR_RI",
    "BNPB_Indonesia",
    "PemkotSurabaya",
    "humas_jabar",
    "OJKIndonesia",
    "bank_indonesia",
)
# Customer-care accounts of invented brands.
BRAND_HANDLES = (
    "TokoKitaCare",
    "NusaPayID",
    "KirimCepatID",
    "TelkoNusa_CS",
    "BankMerdekaCare",
    "OjekinAja",
    "PLNusa_123",
    "MaskapaiGaruda_",
    "SehatMartID",
    "KopiKenangan_Ku",
    "IndoNetHome",
    "BeliBeliCS",
)
BRANDS = (
    "TokoKita",
    "NusaPay",
    "KirimCepat",
    "TelkoNusa",
    "Bank Merdeka",
    "Ojekin",
    "IndoNet Home",
    "BeliBeli",
    "SehatMart",
    "Kopi Kenangan Ku",
)

# --------------------------------------------------------------------------------------------
# Shared slot fillers
# --------------------------------------------------------------------------------------------
PLACES = (
    "Jakarta",
    "Bandung",
    "Surabaya",
    "Medan",
    "Yogyakarta",
    "Makassar",
    "Semarang",
    "Denpasar",
    "Palembang",
    "Balikpapan",
    "Malang",
    "Bogor",
    "Depok",
    "Tangerang",
    "Bekasi",
    "Padang",
    "Pontianak",
    "Manado",
    "Banjarmasin",
    "Kupang",
    "Ambon",
    "Jayapura",
    "Solo",
    "Cirebon",
    "Batam",
    "Pekanbaru",
    "Jambi",
    "Mataram",
    "Bandar Lampung",
    "Samarinda",
    "Kendari",
    "Palu",
    "Tasikmalaya",
)
PEOPLE = (
    "Budi",
    "Sari",
    "Rina",
    "Dimas",
    "Ayu",
    "Fajar",
    "Putri",
    "Andi",
    "Nadia",
    "Rizky",
    "Dewi",
    "Bayu",
    "Intan",
    "Yoga",
    "Citra",
    "Agus",
    "Wulan",
    "Reza",
    "Lestari",
    "Hendra",
    "Tasya",
    "Gilang",
    "Mega",
    "Arif",
    "Nisa",
    "Wahyu",
    "Fitri",
    "Dian",
    "Kevin",
    "Salsa",
)
SOCIAL = ("LinkedIn", "Instagram", "TikTok", "X", "Threads", "YouTube", "Facebook")
COMMON_SLOTS: dict[str, dict[str, tuple[str, ...]] | tuple[str, ...]] = {
    "place": PLACES,
    "person": PEOPLE,
    "social": SOCIAL,
    "brand": BRANDS,
    "job": (
        "admin gudang",
        "staf pemasaran",
        "analis data",
        "guru honorer",
        "kasir",
        "desainer grafis",
        "programmer",
        "perawat",
        "kurir",
        "akuntan",
        "customer service",
        "manajer proyek",
    ),
    "job_en": (
        "data analyst",
        "marketing staff",
        "software engineer",
        "graphic designer",
        "nurse",
        "accountant",
        "customer service agent",
        "project manager",
        "UX writer",
        "sales lead",
    ),
    "when": {
        "id": (
            "hari ini",
            "kemarin",
            "minggu ini",
            "tadi pagi",
            "semalam",
            "barusan",
            "sore ini",
            "akhir pekan ini",
            "bulan ini",
            "tadi siang",
        ),
        "en": (
            "today",
            "yesterday",
            "this week",
            "this morning",
            "last night",
            "just now",
            "this afternoon",
            "this weekend",
            "this month",
            "earlier today",
        ),
        "mixed": ("hari ini", "kemarin", "this week", "tadi pagi", "last night", "barusan", "weekend ini"),
    },
}
NUMERIC_SLOTS = {
    "n": (2, 60),
    "pct": (3, 97),
    "k": (2, 950),
    "hour": (1, 23),
    "year": (2019, 2026),
    "jt": (2, 90),
}

# --------------------------------------------------------------------------------------------
# Sentiment parts
# --------------------------------------------------------------------------------------------
OPENERS: dict[str, dict[str, tuple[str, ...]]] = {
    "positive": {
        "id": (
            "Mantap!",
            "Keren banget,",
            "Salut,",
            "Alhamdulillah,",
            "Senang banget,",
            "Akhirnya!",
            "Bangga,",
            "Kabar baik nih:",
            "Mantappp",
            "Luar biasa,",
            "Terharu,",
            "Wah keren,",
            "Puas banget,",
            "Bersyukur,",
            "Top markotop,",
            "Asik,",
            "Semangat!",
            "Hebat,",
            "Seneng liatnya,",
            "Bagus banget,",
        ),
        "en": (
            "Great news:",
            "Love this!",
            "So proud,",
            "Amazing,",
            "Finally!",
            "Good to see this:",
            "Brilliant,",
            "Really happy,",
            "Well done,",
            "Impressive,",
            "This is wonderful:",
            "Huge win:",
            "Grateful,",
            "Nice,",
            "Fantastic,",
            "So good,",
            "Excellent,",
            "Yay,",
        ),
        "mixed": (
            "Honestly keren banget,",
            "So proud sih,",
            "Good news nih:",
            "Love banget sama ini,",
            "Finally ya,",
            "Salut, amazing",
            "Happy banget,",
            "Seneng banget, so wholesome",
            "Keren, well done",
            "Literally the best,",
            "Worth it banget,",
            "Proud banget,",
        ),
    },
    "negative": {
        "id": (
            "Parah sih,",
            "Kecewa banget,",
            "Miris,",
            "Astaga,",
            "Ngeri,",
            "Capek deh,",
            "Kesal banget,",
            "Sedih lihatnya,",
            "Bikin emosi,",
            "Tidak habis pikir,",
            "Payah,",
            "Sungguh memalukan,",
            "Anjir,",
            "Duh,",
            "Keterlaluan,",
            "Jengkel,",
            "Hadeh,",
            "Takut banget,",
            "Menyedihkan,",
            "Buruk sekali,",
        ),
        "en": (
            "Terrible,",
            "So disappointing,",
            "Awful,",
            "This is outrageous:",
            "Sad to see,",
            "Ugh,",
            "Frustrating,",
            "Scary,",
            "Worst news:",
            "Honestly appalling,",
            "Shameful,",
            "Not good,",
            "Disgusting,",
            "What a mess,",
            "Furious,",
            "Horrible,",
            "Annoying,",
        ),
        "mixed": (
            "Jujur disappointed banget,",
            "Parah sih, so bad",
            "Literally kesel,",
            "Ugh capek deh,",
            "Honestly miris,",
            "Worst banget,",
            "Gila sih, terrible",
            "Sumpah annoying banget,",
            "Sedih, so sad",
            "Kecewa, really bad",
            "Toxic banget,",
            "Awful banget,",
        ),
    },
    "neutral": {
        "id": (
            "Info:",
            "Update:",
            "Dilaporkan,",
            "Menurut data terbaru,",
            "Catatan:",
            "Thread:",
            "Berita:",
            "Ringkasan:",
            "Sekadar info,",
            "Diberitakan,",
            "Rilis resmi:",
            "Pantauan:",
            "Menurut laporan,",
            "Perlu diketahui,",
        ),
        "en": (
            "Update:",
            "Report:",
            "News:",
            "According to officials,",
            "Summary:",
            "Thread:",
            "FYI,",
            "Reportedly,",
            "Data:",
            "Background:",
            "Statement:",
            "Latest:",
        ),
        "mixed": (
            "Update nih:",
            "FYI,",
            "Info aja,",
            "Thread:",
            "Quick update:",
            "Sekadar FYI,",
            "Reminder:",
            "Summary singkat:",
            "Btw,",
            "Noted:",
        ),
    },
}
COMMENTS: dict[str, dict[str, tuple[str, ...]]] = {
    "positive": {
        "id": (
            "semoga makin sukses!",
            "bangga banget",
            "ini baru benar",
            "mantappp",
            "keren parah",
            "terima kasih banyak",
            "sangat membantu",
            "patut dicontoh",
            "semoga berkah",
            "luar biasa sekali",
            "top banget",
            "senang sekali dengarnya",
            "inspiratif banget",
            "sukses terus ya",
            "hebat pokoknya",
            "jadi semangat lagi",
            "salut sama semua yang terlibat",
            "pelayanannya memuaskan",
            "bagus bangettt",
            "makin percaya diri",
        ),
        "en": (
            "well done!",
            "so inspiring",
            "this made my day",
            "huge respect",
            "brilliant work",
            "really helpful",
            "keep it up",
            "love to see it",
            "great job everyone",
            "so uplifting",
            "absolutely wonderful",
            "thank you so much",
            "very impressive",
            "proud of this",
            "excellent service",
            "what a great idea",
        ),
        "mixed": (
            "so inspiring sih",
            "keren, keep it up",
            "thank you banyak",
            "super helpful banget",
            "love it pokoknya",
            "proud banget",
            "vibes-nya positif banget",
            "great job, mantap",
            "worth it sih",
            "so wholesome, terharu",
            "good job kakak",
            "bikin happy",
        ),
    },
    "negative": {
        "id": (
            "benar-benar tidak masuk akal",
            "kecewa berat",
            "parah banget",
            "sampai kapan begini?",
            "jahat banget",
            "menyebalkan",
            "bikin takut",
            "malu-maluin",
            "tidak becus",
            "rugi banget",
            "bikin marah",
            "kacau balau",
            "sangat merugikan",
            "tolong diusut tuntas",
            "benar-benar buruk",
            "nyesel banget",
            "bikin stres",
            "gagal total",
            "tidak ada solusinya",
            "menyedihkan sekali",
        ),
        "en": (
            "absolutely ridiculous",
            "so frustrating",
            "this is unacceptable",
            "terrible service",
            "what a disaster",
            "really worrying",
            "shameful",
            "makes me angry",
            "awful experience",
            "completely broken",
            "a total failure",
            "deeply upsetting",
            "so toxic",
            "worst ever",
            "this is a scam",
        ),
        "mixed": (
            "literally gak masuk akal",
            "so frustrating sih",
            "unacceptable banget",
            "toxic parah",
            "bikin stress, seriously",
            "worst experience ever sih",
            "disappointing banget",
            "gagal total, awful",
            "nightmare banget",
            "jujur annoying",
            "scary banget",
        ),
    },
    "neutral": {
        "id": (
            "detailnya di tautan",
            "cek utasnya",
            "kita lihat nanti",
            "masih dikonfirmasi",
            "sumber di bawah",
            "selengkapnya di tautan",
            "data per hari ini",
            "menurut keterangan resmi",
            "akan diperbarui",
            "baca selengkapnya",
        ),
        "en": (
            "details in the link",
            "more in the thread",
            "we'll see",
            "still being confirmed",
            "source below",
            "full story at the link",
            "figures as of today",
            "per the official statement",
            "will update",
        ),
        "mixed": (
            "detail di link ya",
            "cek thread-nya",
            "we'll see nanti",
            "masih dikonfirmasi, stay tuned",
            "source di bawah",
            "full story di link",
        ),
    },
}
EMOJI = {
    "positive": ("😍", "🔥", "👏", "🙌", "💪", "✨", "🥰", "😊", "👍", "🎉", "❤️", "😁", "🙏", "💯"),
    "negative": ("😡", "😤", "😢", "😭", "🤦", "😠", "💔", "😩", "🙄", "😱", "😞", "🤬"),
    "neutral": ("📢", "📌", "🗞️", "ℹ️", "👇", "📊", "🧵", "📍"),
}
REPLY_OPENERS: dict[str, dict[str, tuple[str, ...]]] = {
    "positive": {
        "id": ("Setuju banget", "Nah ini", "Benar banget kak", "Makasih infonya", "Ikut senang"),
        "en": ("This!", "Exactly", "So true", "Thanks for sharing", "Agreed"),
        "mixed": ("Agree banget", "Setuju, so true", "Thanks infonya", "This sih"),
    },
    "negative": {
        "id": ("Tidak setuju sih", "Ngaco", "Sumbernya mana?", "Parah kak", "Ya ampun"),
        "en": ("Disagree", "Source?", "That's wrong", "Ugh, same", "Nope"),
        "mixed": ("Gak setuju sih honestly", "Source-nya mana?", "Nope, salah", "Ugh sama"),
    },
    "neutral": {
        "id": ("Oh begitu", "Hmm", "Menarik", "Izin share", "Cek dulu"),
        "en": ("Hmm", "Interesting", "Noted", "Following", "Any update?"),
        "mixed": ("Hmm noted", "Izin share ya", "Interesting sih", "Any update kak?"),
    },
}

# --------------------------------------------------------------------------------------------
# Theme cores: templates per language, theme-specific slots, hashtags, link behaviour
# --------------------------------------------------------------------------------------------
# link: (probability of a link, share of those links pointing to low-credibility domains)
# mention: (probability of mentioning, "official" | "brand" | "none")
THEME_TEXT: dict[str, dict] = {
    "personal_branding": {
        "templates": {
            "id": (
                "personal branding di {social} ternyata berpengaruh banget ke {goal}, kata "
                "{person} yang sudah {n} tahun jadi {job}",
                "lagi belajar membangun personal branding lewat {activity}, sudah {n} minggu konsisten",
                "{n} tips personal branding untuk {audience}: {tip}",
                "kata {person}, mentor saya di {place}, personal branding itu bukan pencitraan tapi {tip}",
                "profil {social} kamu adalah CV kedua, jadi {tip} sebelum kirim {n} lamaran berikutnya",
                "menurut survei, {pct}% {audience} menilai orang dari unggahan {social} mereka",
                "{person} bilang konten {activity} bikin dia dilirik banyak orang dalam {n} bulan",
                "ikut kelas personal branding di {place}, materinya soal {tip}",
            ),
            "en": (
                "personal branding on {social} really shapes {goal_en}, says {person} after {n} "
                "years as a {job_en}",
                "been building my personal brand through {activity_en} for {n} weeks now",
                "{n} personal branding tips for {audience_en}: {tip_en}",
                "{person}, my mentor in {place}, says personal branding is not about image, it's "
                "about {tip_en}",
                "your {social} profile is your second CV, so {tip_en} before your next {n} applications",
                "a survey found {pct}% of {audience_en} judge people by their {social} posts",
                "{person} says posting about {activity_en} got her noticed within {n} months",
                "joined a personal branding workshop in {place}, mostly about {tip_en}",
            ),
            "mixed": (
                "personal branding itu penting banget buat {goal}, apalagi di {social}, {person} "
                "udah buktiin {n} bulan",
                "lagi build personal branding lewat {activity_en}, so far {n} minggu konsisten",
                "{n} tips personal branding buat {audience}: {tip_en}",
                "honestly personal branding bukan soal pencitraan, tapi {tip}, kata mentor aku di {place}",
                "profile {social} kamu itu basically CV kedua, jadi {tip} sebelum apply ke {n} company",
                "{person} bilang konten {activity_en} bikin engagement naik {pct}% dalam {n} bulan",
                "ikut workshop personal branding di {place}, insight-nya soal {tip_en}",
            ),
        },
        "slots": {
            "goal": (
                "karier",
                "peluang kerja",
                "bisnis kecil",
                "kepercayaan klien",
                "jaringan profesional",
                "jenjang karier",
                "proyek freelance",
                "reputasi online",
                "dapat beasiswa",
            ),
            "goal_en": (
                "your career",
                "job opportunities",
                "your small business",
                "client trust",
                "your professional network",
                "promotion chances",
                "freelance work",
                "your reputation",
            ),
            "activity": (
                "menulis artikel",
                "bikin konten edukasi",
                "podcast",
                "video pendek",
                "utas di X",
                "berbagi portofolio",
                "siaran langsung",
                "menulis di blog",
            ),
            "activity_en": (
                "writing articles",
                "educational content",
                "podcasting",
                "short videos",
                "threads",
                "sharing my portfolio",
                "live streams",
                "blogging",
                "case studies",
            ),
            "audience": (
                "fresh graduate",
                "mahasiswa",
                "pencari kerja",
                "freelancer",
                "pelaku UMKM",
                "HRD",
                "ibu rumah tangga",
                "karyawan baru",
                "kreator pemula",
            ),
            "audience_en": (
                "fresh graduates",
                "students",
                "job seekers",
                "freelancers",
                "small business owners",
                "recruiters",
                "career switchers",
                "new creators",
            ),
            "tip": (
                "konsisten dan jujur",
                "tunjukkan proses, bukan cuma hasil",
                "pilih satu niche",
                "jangan unggah hal yang bikin menyesal nanti",
                "rapikan foto profil dan bio",
                "bagikan ilmu secara rutin",
                "jaga etika saat berkomentar",
                "tulis pencapaian dengan data",
            ),
            "tip_en": (
                "be consistent and honest",
                "show the process, not just results",
                "pick one niche",
                "don't post what you'll regret",
                "clean up your bio and photo",
                "share what you learn",
                "mind your tone in comments",
                "back achievements with numbers",
            ),
        },
        "hashtags": (
            "PersonalBranding",
            "KontenEdukasi",
            "CareerTips",
            "LinkedInTips",
            "SelfBranding",
            "Produktif",
            "ContentCreator",
        ),
        "link": (0.08, 0.0),
        "mention": (0.03, "none"),
    },
    "careers": {
        "templates": {
            "id": (
                "HRD sekarang cek media sosial pelamar sebelum panggil wawancara, {pct}% dari {k} "
                "perusahaan di {place} mengaku begitu",
                "lowongan {job} di {place}, gaji Rp{jt} juta, syaratnya {req}",
                "sudah kirim {n} lamaran bulan ini, yang dibalas cuma {n2}",
                "rekruter di {place} bilang akun {social} pelamar bisa jadi pertimbangan, jadi {advice}",
                "+|baru diterima kerja jadi {job} di {place} setelah {n} kali wawancara",
                "-|kena PHK setelah {n} tahun kerja, sekarang cari kerja sebagai {job}",
                "job fair di {place} {when}, ada {k} lowongan dari {n} perusahaan",
                "wawancara kerja {when} di {place} ditanya soal unggahan lama di {social} dari tahun {year}",
            ),
            "en": (
                "recruiters now screen candidates' social media before interviews, {pct}% of {k} "
                "firms in {place} say so",
                "hiring: {job_en} in {place}, requirement: {req_en}",
                "sent {n} applications this month and heard back from {n2}",
                "a recruiter in {place} told me your {social} history matters, so {advice_en}",
                "+|just landed a {job_en} role in {place} after {n} interviews",
                "-|laid off after {n} years, now looking for {job_en} roles",
                "career fair in {place} {when} with {k} openings from {n} companies",
                "got asked about a {year} {social} post in my job interview in {place} {when}",
            ),
            "mixed": (
                "recruiter di {place} sekarang screening {social} kandidat dulu, jadi {advice}",
                "open hiring {job_en} di {place}, requirement-nya {req}",
                "udah apply ke {n} company, yang reply cuma {n2}",
                "+|akhirnya dapet offer jadi {job_en} setelah {n} kali interview",
                "-|kena layoff setelah {n} tahun, now open to work sebagai {job_en}",
                "interview {when} ditanya soal post {social} dari tahun {year}, awkward parah",
            ),
        },
        "slots": {
            "req": (
                "minimal S1 dan pengalaman 2 tahun",
                "usia maksimal 25 tahun",
                "bisa bahasa Inggris",
                "punya kendaraan sendiri",
                "siap ditempatkan di mana saja",
                "portofolio online",
            ),
            "req_en": (
                "a degree and 2 years of experience",
                "fluent English",
                "a portfolio link",
                "willingness to relocate",
                "SQL skills",
            ),
            "advice": (
                "rapikan jejak digital kamu",
                "jangan asal unggah",
                "private akun lama",
                "hapus komentar kasar",
                "pakai akun profesional terpisah",
            ),
            "advice_en": (
                "clean up your digital footprint",
                "think before you post",
                "lock old accounts",
                "delete rude comments",
                "keep a separate professional profile",
            ),
            "n2": ("1", "2", "3", "0", "5"),
        },
        "hashtags": (
            "LokerJakarta",
            "InfoLoker",
            "Karier",
            "OpenToWork",
            "JobFair",
            "Hiring",
            "LowonganKerja",
        ),
        "link": (0.15, 0.0),
        "mention": (0.08, "official"),
    },
    "volunteering": {
        "templates": {
            "id": (
                "relawan {org} bagi {k} paket sembako untuk warga {place}",
                "{n} relawan bersih-bersih pantai di {place} {when}, terkumpul {n2} ton sampah",
                "komunitas {org} buka pendaftaran relawan mengajar anak di {place}",
                "donor darah bersama {org} di {place}, ada {k} kantong darah terkumpul",
                "ikut jadi relawan banjir di {place}, warga butuh {need}",
                "gerakan {org} tanam {k} bibit pohon di {place}",
            ),
            "en": (
                "{org} volunteers handed out {k} food parcels in {place}",
                "{n} volunteers cleaned a beach in {place} {when}, {n2} tonnes of rubbish collected",
                "{org} is recruiting volunteer tutors for kids in {place}",
                "blood drive with {org} in {place} collected {k} bags",
                "volunteering at the flood shelter in {place}, people need {need_en}",
                "{org} planted {k} trees around {place}",
            ),
            "mixed": (
                "volunteer {org} bagi {k} paket sembako di {place}",
                "weekend ini ikut beach cleanup di {place}, dapet {n2} ton sampah",
                "{org} lagi open recruitment volunteer ngajar anak di {place}",
                "jadi volunteer banjir di {place}, yang paling dibutuhin {need}",
            ),
        },
        "slots": {
            "org": (
                "Rumah Relawan",
                "Kita Bisa Bantu",
                "Sahabat Pesisir",
                "Komunitas Peduli",
                "Karang Taruna",
                "Gerakan Seribu Buku",
                "Relawan Nusantara",
                "Pemuda Hijau",
                "Dapur Umum Warga",
            ),
            "need": (
                "air bersih",
                "selimut",
                "obat-obatan",
                "popok bayi",
                "makanan siap saji",
                "pakaian layak",
            ),
            "need_en": ("clean water", "blankets", "medicine", "nappies", "ready meals", "dry clothes"),
            "n2": ("1", "2", "3", "4", "5", "7"),
        },
        "hashtags": ("Relawan", "Volunteer", "BerbagiItuIndah", "GotongRoyong", "AksiNyata", "PeduliSesama"),
        "link": (0.10, 0.0),
        "mention": (0.05, "official"),
    },
    "mental_health": {
        "templates": {
            "id": (
                "-|takut banget sama penilaian orang di {social}, sudah {n} hari ragu mau unggah apa pun",
                "digital amnesia itu nyata, ada {k} kontak di HP tapi saya tidak hafal satu pun selain {n2}",
                "+|sudah {n} hari puasa media sosial, rasa cemas berkurang",
                "-|sering membandingkan diri dengan orang lain di {social}, jadi overthinking "
                "sampai jam {hour}",
                "konseling gratis di {place} {when}, kuotanya {n} orang",
                "{pct}% anak muda mengaku cemas karena komentar negatif di {social}",
                "-|susah tidur gara-gara scrolling {social} sampai jam {hour}",
                "-|teman cerita dia burnout setelah {n} bulan lembur terus",
            ),
            "en": (
                "-|so anxious about what people think of my {social} posts that I haven't shared "
                "anything in {n} days",
                "digital amnesia is real, {k} contacts in my phone and I can't remember one except {n2}",
                "+|{n} days off social media and my anxiety is way down",
                "-|comparing myself to people on {social} keeps me overthinking until {hour} every night",
                "free counselling sessions in {place} {when}, {n} places available",
                "{pct}% of young people say negative comments on {social} make them anxious",
                "-|couldn't sleep because I was doomscrolling {social} until {hour} am",
                "-|a friend told me she burned out after {n} months of overtime",
            ),
            "mixed": (
                "-|overthinking parah tiap mau posting di {social}, udah {n} draft gak jadi di-upload",
                "digital amnesia beneran real, {k} kontak tapi gak hafal satu pun selain {n2}",
                "+|udah {n} hari social media detox, anxiety-nya turun",
                "-|compare diri sendiri sama orang di {social} tiap jam {hour} itu bikin insecure",
                "-|burnout setelah {n} bulan lembur, butuh healing",
                "-|scrolling {social} sampai jam {hour}, besoknya mental breakdown",
                "konseling gratis di {place} {when}, slot-nya cuma {n} orang, info di bio",
                "survei: {pct}% Gen Z ngaku anxious gara-gara komentar di {social}",
            ),
        },
        "slots": {"n2": ("nomor ibu", "nomor rumah", "nomor sendiri", "nomor pacar")},
        "hashtags": (
            "KesehatanMental",
            "MentalHealth",
            "DigitalAmnesia",
            "SelfCare",
            "Overthinking",
            "MentalHealthMatters",
        ),
        "link": (0.07, 0.0),
        "mention": (0.02, "official"),
    },
    "misinformation": {
        "templates": {
            "id": (
                "hati-hati informasi palsu soal {claim} yang beredar di {n} grup WhatsApp warga {place}",
                "cek fakta: klaim {claim} itu hoaks, sudah dibantah {authority}",
                "pesan berantai soal {claim} kembali beredar di {social}",
                "jangan langsung percaya kabar {claim} dari {social}, cek dulu sumbernya ke {authority}",
                "akun anonim sebar hoaks {claim}, dibagikan {k} kali dalam sehari",
                "hoaks {claim} bikin warga {place} panik",
            ),
            "en": (
                "beware of false information about {claim_en} circulating in {n} WhatsApp groups in {place}",
                "fact check: the claim that {claim_en} is false, {authority} says",
                "chain messages about {claim_en} are spreading again on {social}",
                "don't share the {social} rumour about {claim_en} before checking with {authority}",
                "anonymous accounts pushed the {claim_en} hoax, shared {k} times in a day",
            ),
            "mixed": (
                "hati-hati hoaks soal {claim}, udah {n} orang di grup {place} asal forward",
                "fact check: {claim} itu hoax, udah dibantah {authority}",
                "pesan berantai {claim} viral lagi di {social}, please cek dulu",
                "informasi palsu soal {claim} bikin panik warga {place}",
            ),
        },
        "slots": {
            "claim": (
                "vaksin berisi microchip",
                "bansos dibagikan lewat tautan",
                "air kelapa menyembuhkan kanker",
                "pemadaman listrik total se-Jawa",
                "uang kertas baru ditarik",
                "gempa besar diprediksi besok",
                "pendaftaran CPNS lewat WhatsApp",
                "kuota internet gratis dari pemerintah",
            ),
            "claim_en": (
                "vaccines carry microchips",
                "aid is paid out through a link",
                "coconut water cures cancer",
                "a total blackout across Java",
                "new banknotes being withdrawn",
                "free data from the government",
            ),
            "authority": ("Kemenkes", "Kominfo", "polisi", "Mafindo", "Bank Indonesia", "BMKG", "PLN"),
        },
        "hashtags": ("Hoaks", "CekFakta", "InformasiPalsu", "TurnBackHoax", "StopHoaks", "FactCheck"),
        "link": (0.40, 0.45),
        "mention": (0.10, "official"),
    },
    "cybercrime": {
        "templates": {
            "id": (
                "modus penipuan online baru: {scam}, korban di {place} rugi Rp{jt} juta",
                "akun {social} teman saya di {place} diretas {when}, pelaku minta {ask}",
                "jangan pernah bagikan kode OTP ke siapa pun, termasuk yang mengaku dari {brand}, "
                "tetangga saya rugi Rp{jt} juta",
                "polisi tangkap {n} pelaku {scam} di {place}",
                "dapat pesan {scam} lagi {when}, sudah {n} kali minggu ini",
                "tips aman bertransaksi online dari polisi {place}: {tip}, sudah {n} laporan bulan ini",
            ),
            "en": (
                "new online scam: {scam_en}, victims in {place} lost {k} million rupiah",
                "my friend's {social} account in {place} got hacked {when} and the attacker asked "
                "for {ask_en}",
                "never share your OTP with anyone, even if they claim to be from {brand}, my "
                "neighbour lost {jt} million rupiah",
                "police arrested {n} suspects over {scam_en} in {place}",
                "got another {scam_en} message {when}, {n} this week alone",
                "online safety tip from {place} police: {tip_en}, {n} reports this month",
            ),
            "mixed": (
                "modus scam baru: {scam}, korban rugi Rp{jt} juta",
                "akun {social} temen di {place} ke-hack {when}, pelakunya minta {ask}",
                "please jangan share kode OTP ke siapa pun, even yang ngaku dari {brand}, temen "
                "aku rugi Rp{jt} juta",
                "dapet phishing link lagi {when}, udah {n} kali minggu ini",
            ),
        },
        "slots": {
            "scam": (
                "undangan pernikahan berupa file APK",
                "kurir paket palsu",
                "phishing berkedok promo",
                "lowongan kerja bodong",
                "investasi robot trading",
                "pinjol ilegal",
                "love scam",
                "hadiah undian palsu",
            ),
            "scam_en": (
                "fake wedding invitation APK",
                "fake courier messages",
                "phishing disguised as promos",
                "fake job offers",
                "trading-bot investment fraud",
                "illegal lending apps",
            ),
            "ask": ("transfer pulsa", "kode OTP", "tebusan Rp5 juta", "data KTP"),
            "ask_en": ("a top-up transfer", "the OTP code", "a ransom", "ID card photos"),
            "tip": (
                "aktifkan verifikasi dua langkah",
                "cek alamat situs sebelum login",
                "jangan klik tautan asing",
                "pakai kata sandi berbeda",
            ),
            "tip_en": (
                "turn on two-factor authentication",
                "check the URL before logging in",
                "don't click unknown links",
                "use a password manager",
            ),
        },
        "hashtags": ("KeamananSiber", "CyberSecurity", "Phishing", "WaspadaPenipuan", "OTP", "DataPribadi"),
        "link": (0.18, 0.05),
        "mention": (0.12, "official"),
    },
    "government": {
        "templates": {
            "id": (
                "-|tolong jalan rusak di {place} diperbaiki, sudah {n} bulan dibiarkan",
                "kapan bansos tahap {n2} cair? warga {place} masih menunggu",
                "antrean layanan {service} di {place} mengular sejak jam {hour} pagi",
                "-|mohon ditindak pungli di layanan {service} {place}",
                "-|aplikasi {service} error terus sejak {when}, sudah coba {n} kali dari {place}",
                "+|terima kasih responsnya soal {service} di {place}",
                "kebijakan baru soal {policy} mulai berlaku bulan depan, warga {place} minta sosialisasi",
            ),
            "en": (
                "-|please fix the damaged road in {place}, it's been {n} months",
                "when will the stage {n2} aid be paid? people in {place} are still waiting",
                "the queue for {service_en} in {place} started at {hour} am",
                "-|the {service_en} app has been down since {when}, tried {n} times from {place}",
                "+|thanks for the quick response on {service_en} in {place}",
                "new rules on {policy_en} take effect next month, residents of {place} want answers",
            ),
            "mixed": (
                "-|please banget jalan rusak di {place} segera diperbaiki, udah {n} bulan",
                "bansos tahap {n2} kapan cair? warga {place} udah nunggu lama",
                "-|aplikasi {service} down terus sejak {when}, udah {n} kali coba, gimana ini",
                "+|thanks udah respon cepat soal {service} di {place}",
            ),
        },
        "slots": {
            "service": (
                "BPJS",
                "KTP elektronik",
                "paspor",
                "SIM",
                "pajak kendaraan",
                "perizinan usaha",
                "pendaftaran sekolah",
                "puskesmas",
            ),
            "service_en": (
                "health insurance",
                "ID cards",
                "passports",
                "driving licences",
                "vehicle tax",
                "business permits",
                "school enrolment",
            ),
            "policy": (
                "tarif listrik",
                "subsidi BBM",
                "pajak UMKM",
                "jam kerja ASN",
                "zonasi sekolah",
                "impor beras",
            ),
            "policy_en": (
                "electricity tariffs",
                "fuel subsidies",
                "small business tax",
                "school zoning",
                "rice imports",
            ),
            "n2": ("1", "2", "3", "4"),
        },
        "hashtags": ("LaporPak", "PelayananPublik", "Bansos", "JalanRusak", "KebijakanPublik"),
        "link": (0.10, 0.0),
        "mention": (0.80, "official"),
    },
    "business": {
        "templates": {
            "id": (
                "-|paket dari {brand} belum sampai sudah {n} hari, nomor resi tidak bisa dilacak",
                "-|refund di {brand} tidak diproses padahal sudah {n} hari",
                "+|pelayanan {brand} cepat, masalah selesai dalam {n} menit",
                "{brand} buka {n} gerai baru di {place}",
                "-|saldo {brand} terpotong Rp{k} ribu tanpa transaksi",
                "+|CS {brand} ramah dan membantu, keluhan langsung ditanggapi dalam {n} menit",
                "promo {brand} {when} diskon {pct}%",
            ),
            "en": (
                "-|my {brand} parcel is {n} days late and the tracking number doesn't work",
                "-|still waiting on a {brand} refund after {n} days",
                "+|{brand} support sorted my issue in {n} minutes",
                "{brand} is opening {n} new stores in {place}",
                "-|{brand} charged me {k} thousand rupiah for nothing",
                "{brand} sale {when}: {pct}% off",
            ),
            "mixed": (
                "-|paket {brand} belum nyampe udah {n} hari, tracking-nya stuck",
                "-|refund {brand} belum di-proses padahal udah {n} hari",
                "+|CS {brand} fast response banget, {n} menit kelar",
                "-|saldo {brand} kepotong Rp{k} ribu, no transaction sama sekali",
                "promo {brand} {when} diskon {pct}%, worth it gak?",
            ),
        },
        "slots": {},
        "hashtags": ("CustomerService", "Promo", "Refund", "BelanjaOnline", "UMKM", "Diskon"),
        "link": (0.10, 0.0),
        "mention": (0.75, "brand"),
    },
    "news_politics": {
        "templates": {
            "id": (
                "DPR bahas revisi undang-undang {law} {when}",
                "koalisi {n2} partai di {place} bergeser jelang pilkada",
                "survei terbaru: elektabilitas calon kepala daerah {place} naik {pct}%",
                "debat kandidat wali kota {place} digelar {when}",
                "presiden lantik {n} pejabat baru di Istana {when}, termasuk dari {place}",
                "mahasiswa di {place} demo tolak revisi {law}",
            ),
            "en": (
                "parliament debates changes to the {law_en} law {when}",
                "a {n2}-party coalition shifts in {place} ahead of regional elections",
                "new poll: support for the {place} mayoral candidate up {pct}%",
                "students in {place} protest the proposed {law_en} bill",
                "the president swore in {n} new officials {when}, including from {place}",
            ),
            "mixed": (
                "DPR bahas revisi UU {law} {when}, public hearing-nya cuma {n} jam",
                "debat cawalkot {place} {when}, siapa yang paling convincing?",
                "survei terbaru elektabilitas naik {pct}%, tapi margin of error-nya gede",
            ),
        },
        "slots": {
            "law": ("penyiaran", "ITE", "KUHP", "pemilu", "perampasan aset", "polri"),
            "law_en": (
                "broadcasting",
                "electronic information",
                "criminal code",
                "elections",
                "asset seizure",
            ),
            "n2": ("3", "4", "5", "6", "7"),
        },
        "hashtags": ("Pilkada", "Politik", "DPR", "Demokrasi", "RevisiUU"),
        "link": (0.45, 0.05),
        "mention": (0.15, "official"),
    },
    "news_economy": {
        "templates": {
            "id": (
                "harga {commodity} di {place} naik jadi Rp{k} ribu per kilo",
                "rupiah melemah ke level Rp{k2} per dolar AS {when}, terendah dalam {n} bulan",
                "inflasi {when} tercatat {infl}%, menurut BPS",
                "IHSG ditutup turun {pct2}% {when}",
                "{k} UMKM di {place} keluhkan sepinya pembeli {when}",
                "pemerintah siapkan Rp{jt} triliun untuk subsidi {commodity}",
            ),
            "en": (
                "{commodity_en} prices in {place} rose to {k} thousand rupiah a kilo",
                "the rupiah weakened to {k2} per US dollar {when}, a {n}-month low",
                "inflation came in at {infl}% {when}, statistics bureau says",
                "Jakarta stocks closed {pct2}% lower {when}",
                "{k} small businesses in {place} report slow sales {when}",
            ),
            "mixed": (
                "harga {commodity} naik lagi, sekarang Rp{k} ribu per kilo",
                "rupiah melemah ke Rp{k2} per dolar, harga {commodity} di {place} impact-nya kerasa",
                "-|IHSG turun {pct2}% {when}, portofolio merah semua",
            ),
        },
        "slots": {
            "commodity": ("beras", "cabai", "minyak goreng", "telur", "bawang merah", "gula", "daging sapi"),
            "commodity_en": ("rice", "chilli", "cooking oil", "egg", "shallot", "sugar", "beef"),
            "k2": ("16.240", "16.385", "16.512", "16.720", "16.105", "16.950"),
            "infl": ("2,1", "2,4", "2,8", "3,1", "1,9"),
            "pct2": ("0,8", "1,2", "1,7", "2,3", "0,5"),
        },
        "hashtags": ("Ekonomi", "Rupiah", "IHSG", "HargaPangan", "Inflasi"),
        "link": (0.50, 0.03),
        "mention": (0.05, "official"),
    },
    "news_sports": {
        "templates": {
            "id": (
                "Timnas menang {s1}-{s2} atas {rival} di {place}",
                "{club} ditahan imbang {s2}-{s2} di kandang sendiri, ditonton {k} ribu suporter",
                "pebulu tangkis asal {place} melaju ke final {event} usai main {n} menit",
                "{club} resmi rekrut pemain asing baru jelang putaran kedua, kontrak Rp{k} juta per bulan",
                "suporter {club} padati stadion, tiket ludes dalam {n} menit",
                "atlet {place} raih {n2} emas di {event}",
            ),
            "en": (
                "Indonesia beat {rival} {s1}-{s2} in {place}",
                "{club} held to a {s2}-{s2} draw at home in front of {k} thousand fans",
                "a shuttler from {place} reaches the {event} final after {n} minutes",
                "{club} fans packed the stadium, tickets gone in {n} minutes",
            ),
            "mixed": (
                "Timnas menang {s1}-{s2} lawan {rival}, full time mantap",
                "{club} draw {s2}-{s2} di kandang, {n} shots tapi lini depan kurang tajam",
                "tiket {club} sold out dalam {n} menit",
            ),
        },
        "slots": {
            "s1": ("1", "2", "3", "4"),
            "s2": ("0", "1"),
            "rival": ("Vietnam", "Thailand", "Malaysia", "Jepang", "Australia", "Arab Saudi", "Filipina"),
            "club": ("Persija", "Persib", "Persebaya", "PSM Makassar", "Arema", "Bali United", "PSS Sleman"),
            "event": ("Indonesia Open", "SEA Games", "Asian Games", "Kejuaraan Dunia", "PON"),
            "n2": ("2", "3", "5", "8"),
        },
        "hashtags": ("Timnas", "GarudaDiDadaku", "Liga1", "Badminton", "IndonesiaOpen"),
        "link": (0.30, 0.0),
        "mention": (0.03, "none"),
    },
    "news_entertainment": {
        "templates": {
            "id": (
                "konser {artist} di {place} ludes dalam {n} menit",
                "film {film} tembus {k} ribu penonton di hari pertama",
                "{artist} rilis lagu baru {when}, sudah diputar {k} ribu kali",
                "drama rumah tangga artis {artist2} jadi trending nomor {n2} di {social}",
                "serial {film} tayang {when} di platform streaming",
            ),
            "en": (
                "{artist} concert in {place} sold out in {n} minutes",
                "the film {film} drew {k} thousand viewers on opening day",
                "{artist} dropped a new single {when}, {k} thousand streams already",
                "celebrity {artist2}'s divorce is trending again on {social}, {k} thousand posts",
            ),
            "mixed": (
                "konser {artist} di {place} sold out dalam {n} menit, war tiket parah",
                "film {film} tembus {k} ribu penonton, worth it banget",
                "{artist} drop single baru {when}, {k} ribu streams, vibes-nya beda",
            ),
        },
        "slots": {
            "artist": (
                "Nadin Amizah",
                "Tulus",
                "Raisa",
                "Sheila on 7",
                "Isyana",
                "Hindia",
                "Maliq & D'Essentials",
            ),
            "artist2": ("R.", "M.", "inisial A", "inisial D", "pasangan seleb itu"),
            "n2": ("1", "2", "3", "4", "5"),
            "film": (
                "Rumah di Ujung Gang",
                "Pulang ke Timur",
                "Senja di Pelabuhan",
                "Kampung Sunyi",
                "Surat dari Ibu",
            ),
        },
        "hashtags": ("Konser", "FilmIndonesia", "Selebriti", "MusikIndonesia", "Trending"),
        "link": (0.25, 0.1),
        "mention": (0.02, "none"),
    },
    "news_science_tech": {
        "templates": {
            "id": (
                "peneliti {inst} kembangkan {tech} untuk {use}",
                "startup asal {place} raih pendanaan Rp{jt} miliar untuk {tech}",
                "gerhana bulan total bisa diamati dari {place} {when}",
                "kecerdasan buatan mulai dipakai untuk {use} di {place}, uji coba {n} bulan",
                "satelit buatan {inst} berhasil mengorbit {when} setelah {n} tahun riset",
            ),
            "en": (
                "{inst} researchers develop {tech_en} for {use_en}",
                "a startup from {place} raised {jt} billion rupiah for {tech_en}",
                "a total lunar eclipse will be visible from {place} {when}",
                "AI is now being used for {use_en} in {place}, a {n}-month pilot",
            ),
            "mixed": (
                "peneliti {inst} develop {tech_en} buat {use}, keren sih",
                "startup {place} dapet funding Rp{jt} miliar buat {tech_en}",
                "AI sekarang dipakai buat {use} di {place}, future is here",
            ),
        },
        "slots": {
            "inst": ("BRIN", "ITB", "UGM", "UI", "ITS", "IPB", "LAPAN"),
            "tech": (
                "sensor gempa murah",
                "baterai kendaraan listrik",
                "aplikasi deteksi dini",
                "drone pemetaan",
                "model bahasa daerah",
            ),
            "tech_en": (
                "low-cost quake sensors",
                "EV batteries",
                "early-warning apps",
                "mapping drones",
                "local-language AI models",
            ),
            "use": (
                "pertanian",
                "mitigasi bencana",
                "layanan kesehatan",
                "pendidikan di daerah terpencil",
                "pemantauan hutan",
            ),
            "use_en": (
                "farming",
                "disaster mitigation",
                "healthcare",
                "remote schooling",
                "forest monitoring",
            ),
        },
        "hashtags": ("Teknologi", "Sains", "AI", "Startup", "Inovasi"),
        "link": (0.45, 0.0),
        "mention": (0.03, "none"),
    },
    "news_health": {
        "templates": {
            "id": (
                "kasus demam berdarah di {place} naik {pct}% {when}",
                "Dinkes {place} imbau warga waspada {disease} saat musim hujan, {n} kasus {when}",
                "imunisasi gratis di puskesmas {place} mulai {when}",
                "rumah sakit di {place} kekurangan {k} tenaga perawat",
                "dokter di {place} ingatkan bahaya {habit} bagi anak, {pct}% pasiennya usia sekolah",
            ),
            "en": (
                "dengue cases in {place} up {pct}% {when}",
                "{place} health office warns about {disease_en} in the rainy season, {n} cases {when}",
                "free immunisation at {place} clinics starts {when}",
                "doctors in {place} warn about {habit_en} in children, {pct}% of patients are school-age",
            ),
            "mixed": (
                "kasus DBD di {place} naik {pct}%, please jaga kebersihan",
                "dokter di {place} remind soal bahaya {habit} buat anak, {pct}% pasiennya usia sekolah",
                "imunisasi gratis di {place} {when}, don't miss it",
            ),
        },
        "slots": {
            "disease": ("DBD", "ISPA", "diare", "leptospirosis", "campak"),
            "disease_en": ("dengue", "respiratory infections", "diarrhoea", "measles"),
            "habit": ("gawai berlebihan", "minuman manis", "kurang tidur", "jajanan tidak sehat"),
            "habit_en": ("too much screen time", "sugary drinks", "poor sleep", "junk food"),
        },
        "hashtags": ("Kesehatan", "DBD", "HidupSehat", "Imunisasi"),
        "link": (0.40, 0.15),
        "mention": (0.10, "official"),
    },
    "news_education": {
        "templates": {
            "id": (
                "pendaftaran sekolah sistem zonasi di {place} dibuka {when}",
                "-|{k} guru honorer di {place} belum terima gaji {n} bulan",
                "beasiswa kuliah untuk {n} mahasiswa dari {place}",
                "kurikulum baru mulai diterapkan di {n} sekolah di {place}",
                "UKT kampus negeri di {place} naik hingga {pct}%",
            ),
            "en": (
                "school zoning registration in {place} opens {when}",
                "-|{k} contract teachers in {place} haven't been paid for {n} months",
                "scholarships for {n} students from {place}",
                "state university tuition in {place} up as much as {pct}%",
            ),
            "mixed": (
                "pendaftaran zonasi di {place} dibuka {when}, sistemnya masih ribet",
                "-|UKT di {place} naik {pct}%, mahasiswa makin struggle",
                "+|beasiswa buat {n} mahasiswa {place}, go apply!",
            ),
        },
        "slots": {},
        "hashtags": ("Pendidikan", "Beasiswa", "Zonasi", "GuruHonorer", "UKT"),
        "link": (0.35, 0.0),
        "mention": (0.10, "official"),
    },
}
GENERAL_HASHTAGS = ("Indonesia", "Jakarta", "Viral", "Trending", "FYP", "InfoTerkini", "Netizen")

# The data-leak story behind the planted topic spike (cybercrime theme).
SPIKE_TEXT = {
    "templates": {
        "id": (
            "data {jt} juta pengguna TokoKita diduga bocor dan dijual di forum gelap seharga {k} dolar",
            "TokoKita akui kebocoran data {when}, {pct}% akun terdampak diminta ganti kata sandi",
            "cek apakah data kamu ikut bocor di kebocoran TokoKita, sudah {jt} juta akun, saya termasuk",
            "setelah kebocoran data TokoKita, sudah {n} kali saya ditelepon penipu yang mengaku "
            "kurir dari {place}",
            "pakar keamanan siber dari {inst}: kebocoran TokoKita berisi {jt} juta nomor HP dan alamat",
            "data pribadi pengguna TokoKita bocor, warga {place} mulai dapat SMS phishing {when}",
            "polisi siber selidiki kebocoran TokoKita, {n} orang diperiksa {when}",
        ),
        "en": (
            "data of {jt} million TokoKita users reportedly leaked and sold on a hacking forum "
            "for {k} dollars",
            "TokoKita confirms a data breach {when}, {pct}% of users told to reset passwords",
            "the TokoKita breach exposed names, phone numbers and addresses of {jt} million accounts",
            "{inst} security researchers call the TokoKita leak one of the biggest this year, "
            "{jt} million records",
            "since the TokoKita leak I've had {n} scam calls from people posing as couriers in {place}",
        ),
        "mixed": (
            "data {jt} juta user TokoKita bocor, please ganti password sekarang, {pct}% akun kena",
            "TokoKita data breach makin parah, udah {n} phishing call {when}",
            "cek dulu data kamu ke-leak atau nggak di kasus TokoKita, temen di {place} udah kena scam",
            "abis TokoKita leak, dapet {n} SMS phishing {when}, seriously",
        ),
    },
    "slots": {"inst": ("BRIN", "ITB", "UGM", "UI", "ITS", "Binus", "Telkom University")},
    "hashtags": ("TokoKitaBocor", "KebocoranData", "DataBreach", "KeamananSiber"),
}

# The planted emerging story: a named event nobody put in the taxonomy (none of its words is a topic
# keyword), on one day only, across accounts, platforms and languages (``Corpus`` plants it; the
# ground truth records it under ``planted.emerging_story``). Every template names the event, so its
# terms co-occur in the same posts.
STORY = "story"  # what the corpus passes to writers (and they to ``compose``) as ``spike`` for its posts
STORY_TEXT = {
    "name": "Lentera Kalimaya",
    "description": "thousands of lanterns lit over the (invented) Kalimaya Bay, an event that goes viral "
    "in one evening",
    # The terms it must surface with, in the pipeline's normal form (hashtags lower-case, no '#').
    "terms": ("kalimaya", "lentera", "lenterakalimaya", "kalimayaberpendar"),
    "templates": {
        "id": (
            "ribuan lentera menyala di Teluk Kalimaya malam ini, videonya sudah ditonton {k} ribu kali",
            "Lentera Kalimaya di luar dugaan, {n} ribu orang datang ke Teluk Kalimaya",
            "siapa penggagas Lentera Kalimaya? tiba-tiba semua orang di {place} membicarakannya",
            "jalan menuju Teluk Kalimaya padat {n} kilometer gara-gara Lentera Kalimaya",
            "warga {place} ikut menyalakan lentera ala Kalimaya di halaman",
            "langit Teluk Kalimaya penuh lentera, baru kali ini lihat yang seperti ini",
        ),
        "en": (
            "thousands of lanterns lit up Kalimaya Bay tonight, the Lentera Kalimaya clips are everywhere",
            "who started Lentera Kalimaya? suddenly everyone in {place} is talking about it",
            "the way to Kalimaya Bay is jammed for {n} km because of Lentera Kalimaya",
            "never seen anything like Lentera Kalimaya, the whole bay glowing with lentera",
            "{n} thousand people came to Kalimaya Bay for the Lentera Kalimaya night",
        ),
        "mixed": (
            "Lentera Kalimaya tadi malem beneran magical, the whole bay glowing",
            "guys Teluk Kalimaya penuh banget, {n} ribu orang lihat Lentera Kalimaya",
            "pengen ke Kalimaya lagi, lentera-nya bikin speechless",
            "lentera di Kalimaya itu so pretty, FYP aku isinya ini semua",
        ),
    },
    "slots": {},
    "hashtags": ("LenteraKalimaya", "LenteraKalimaya", "KalimayaBerpendar"),
}

# The planted hoax campaign's message: variants differ by an emoji, punctuation or a word.
CAMPAIGN = {
    "domain": "beritaviral-terkini.blogspot.com",
    "url": "https://beritaviral-terkini.blogspot.com/2026/11/rahasia-daun-sirsak-sembuhkan-dbd.html",
    "claim": "rebusan daun sirsak dan garam menyembuhkan DBD dalam satu malam",
    "heads": ("VIRAL!!", "VIRAL!!!", "⚠️ VIRAL!!", "🚨VIRAL!!", "VIRAL‼️"),
    "body": "Dokter di RS ternama akhirnya {verb} rahasia: rebusan daun sirsak + 1 sdt garam bisa "
    "sembuhkan DBD dalam 1 malam tanpa obat! Pemerintah sengaja menutupi ini.",
    "verbs": ("buka", "buka", "buka", "bongkar"),
    "tails": (
        "Sebarkan sebelum dihapus!!",
        "SEBARKAN sebelum dihapus!!",
        "Sebarkan sebelum dihapus!!!",
        "sebarkan sebelum dihapus!!",
    ),
    "emoji": ("🙏", "🙏🙏", "", "😱", "‼️"),
}

# --------------------------------------------------------------------------------------------
# Informal register: word replacements applied to Indonesian and mixed strings
# --------------------------------------------------------------------------------------------
_SLANG: dict[str, tuple[str, ...]] = {
    "tidak": ("gak", "nggak", "ga", "tdk", "enggak"),
    "sudah": ("udah", "udh", "dah"),
    "yang": ("yg",),
    "dengan": ("dgn", "sama"),
    "banget": ("bgt", "bangettt", "banget"),
    "saja": ("aja",),
    "kalau": ("kalo", "klo"),
    "bagaimana": ("gimana",),
    "sekarang": ("skrg", "sekarang"),
    "karena": ("karna", "krn"),
    "memang": ("emang",),
    "juga": ("jg", "juga"),
    "untuk": ("buat", "utk"),
    "tapi": ("tp", "tapi"),
    "belum": ("blm", "belom"),
    "benar-benar": ("bener2", "beneran"),
    "kata-kata": ("kata2",),
    "orang-orang": ("org2",),
    "orang": ("org", "orang"),
    "tahu": ("tau",),
    "begitu": ("gitu",),
    "seperti": ("kayak", "kyk"),
    "saya": ("aku", "gue", "gw"),
    "teman": ("temen",),
    "dapat": ("dapet",),
    "lihat": ("liat",),
    "sampai": ("sampe",),
    "benar": ("bener",),
    "kasih": ("kasi",),
    "pakai": ("pake",),
    "mau": ("mau", "mo"),
    "apa": ("apa", "apaan"),
    "terima kasih": ("makasih", "thx", "makasi"),
    "bikin": ("bikin",),
}
_SLANG_RE = re.compile(
    r"\b(" + "|".join(sorted(map(re.escape, _SLANG), key=len, reverse=True)) + r")\b", re.IGNORECASE
)


def informal_variants(text: str, rng: random.Random, n: int = 2) -> tuple[str, ...]:
    """Informal renderings of an Indonesian string (distinct ones only; may be just the input)."""
    out: list[str] = []
    for _ in range(n):

        def swap(m: re.Match[str]) -> str:
            word = m.group(0)
            rep = rng.choice(_SLANG[word.lower()])
            return rep.capitalize() if word[:1].isupper() else rep

        v = _SLANG_RE.sub(swap, text)
        if v not in out:
            out.append(v)
    return tuple(out)


# --------------------------------------------------------------------------------------------
# Compiled composer
# --------------------------------------------------------------------------------------------
_FORMATTER = string.Formatter()


def _parse(template: str) -> tuple[str, ...]:
    """A template as alternating literal/slot parts: (lit0, slot1, lit1, slot2, lit2, ...)."""
    parts: list[str] = []
    for literal, field, _spec, _conv in _FORMATTER.parse(template):
        parts.append(literal)
        if field is not None:
            parts.append(field)
    if len(parts) % 2 == 0:
        parts.append("")
    return tuple(parts)


# One generated text before a platform renders it:
# (front_mentions, body, end_mentions, hashtags, link, emoji) -- a plain tuple, built per post.
Composed = tuple


class TextGen:
    """Draws texts for (theme, language, sentiment, register). Build once per run."""

    def __init__(self, seed: int):
        rng = random.Random(seed * 7919 + 17)
        self.theme_count = len(THEMES)
        self._cores: list[dict[str, list[tuple[tuple[str, ...], ...]]]] = []  # [theme][lang] -> templates
        self._slots: list[dict[str, dict[str, tuple[tuple[str, ...], tuple[str, ...]]]]] = []
        self._hashtags: list[tuple[str, ...]] = []
        self._link: list[tuple[float, float]] = []
        self._mention: list[tuple[float, str]] = []
        for theme_id in THEME_IDS:
            spec = THEME_TEXT[theme_id]
            self._add_theme(spec, rng)
        self.spike_theme = THEME_IDS.index("cybercrime")
        self._spike_cores = {
            lang: self._compile_templates(SPIKE_TEXT["templates"][lang], lang, rng) for lang in LANGS
        }
        self._spike_tags = SPIKE_TEXT["hashtags"]
        self._spike_slots = {
            name: self._compile_slot(vals, rng) for name, vals in SPIKE_TEXT["slots"].items()
        }
        # Its own random stream, so adding the story changes no other text.
        story_rng = random.Random(seed * 7919 + 23)
        self.story_theme = THEME_IDS.index("news_entertainment")
        self._story_cores = {
            lang: self._compile_templates(STORY_TEXT["templates"][lang], lang, story_rng) for lang in LANGS
        }
        self._story_tags = STORY_TEXT["hashtags"]

        def reg(table: dict[str, dict[str, tuple[str, ...]]]) -> dict[tuple[str, str, int], tuple[str, ...]]:
            out = {}
            for sent, by_lang in table.items():
                for lang, items in by_lang.items():
                    formal = tuple(items)
                    informal = (
                        formal
                        if lang == "en"
                        else tuple(v for it in items for v in informal_variants(it, rng))
                    )
                    out[(sent, lang, 0)] = formal
                    out[(sent, lang, 1)] = informal
            return out

        self._openers = reg(OPENERS)
        self._comments = reg(COMMENTS)
        # [sentiment index][lang][register] -> phrases, so compose does no tuple-keyed lookups
        self._op = tuple(
            {lang: (self._openers[(s, lang, 0)], self._openers[(s, lang, 1)]) for lang in LANGS}
            for s in SENTIMENTS
        )
        self._cm = tuple(
            {lang: (self._comments[(s, lang, 0)], self._comments[(s, lang, 1)]) for lang in LANGS}
            for s in SENTIMENTS
        )
        self._reply_openers = reg(REPLY_OPENERS)
        self._common_slots = {name: self._compile_slot(vals, rng) for name, vals in COMMON_SLOTS.items()}
        self._numeric = {
            name: tuple(str(i) for i in range(lo, hi + 1)) for name, (lo, hi) in NUMERIC_SLOTS.items()
        }
        self._check_slots()
        self._news_paths = tuple(_parse(NEWS_PATHS[d]) for d in NEWS_DOMAINS)
        for parts in self._news_paths:
            for f in parts[1::2]:
                if f not in ("slug", "y", "m", "d", "mon", "section", *self._URL_NUMBERS):
                    raise ValueError(f"news URL pattern field {{{f}}} is unknown")
        self._ready = [
            self._resolve(self._cores[i], self._slots[i], THEME_IDS[i]) for i in range(len(self._cores))
        ]
        self._spike_ready = self._resolve(self._spike_cores, self._spike_slots, "spike")
        self._story_ready = self._resolve(self._story_cores, {}, "story")
        self._slug_words = (
            "warga",
            "pemerintah",
            "kasus",
            "harga",
            "data",
            "polisi",
            "viral",
            "netizen",
            "terbaru",
            "jakarta",
            "resmi",
            "ungkap",
            "temukan",
            "naik",
            "turun",
            "akun",
            "kebijakan",
            "sekolah",
            "timnas",
            "kesehatan",
        )

    # ---- compilation --------------------------------------------------------------------
    def _check_slots(self) -> None:
        """Fail at construction, not mid-run, if a template names a slot nothing fills."""
        known = set(self._numeric) | set(self._common_slots)
        tables = [(self._cores[i], self._slots[i]) for i in range(len(self._cores))]
        tables.append((self._spike_cores, self._spike_slots))
        tables.append((self._story_cores, {}))
        for cores, slots in tables:
            for regs in cores.values():
                for _polarity, parts in regs[0] + regs[1]:
                    for name in parts[1::2]:
                        if name not in known and name not in slots:
                            raise ValueError(f"template slot {{{name}}} has no fillers: {''.join(parts)!r}")

    def _compile_slot(self, vals, rng) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
        """Slot values per language as (formal, informal)."""
        if isinstance(vals, dict):
            by_lang = {lang: tuple(vals.get(lang) or vals.get("id") or ()) for lang in LANGS}
        else:
            by_lang = {lang: tuple(vals) for lang in LANGS}
        out = {}
        for lang, items in by_lang.items():
            informal = items if lang == "en" else tuple(v for it in items for v in informal_variants(it, rng))
            out[lang] = (items, informal)
        return out

    def _compile_templates(self, templates, lang, rng) -> tuple[tuple[tuple[str, tuple[str, ...]], ...], ...]:
        """Per register (formal, informal): (polarity, parsed template) pairs.

        A template written ``"+|..."`` or ``"-|..."`` says something positive or negative by itself
        ("finally got the job", "my parcel is late"); it is only used for posts of that polarity.
        """
        marked = [(t[0], t[2:]) if t[:2] in ("+|", "-|") else ("", t) for t in templates]
        formal = tuple((pol, _parse(t)) for pol, t in marked)
        if lang == "en":
            return (formal, formal)
        informal = tuple((pol, _parse(v)) for pol, t in marked for v in informal_variants(t, rng))
        return (formal, informal)

    def _add_theme(self, spec, rng) -> None:
        self._cores.append(
            {lang: self._compile_templates(spec["templates"][lang], lang, rng) for lang in LANGS}
        )
        self._slots.append({name: self._compile_slot(vals, rng) for name, vals in spec["slots"].items()})
        self._hashtags.append(tuple(spec["hashtags"]))
        self._link.append(spec["link"])
        self._mention.append(spec["mention"])

    # ---- drawing --------------------------------------------------------------------------
    def _resolve(self, cores: dict, slots: dict, what: str) -> dict[str, tuple]:
        """Templates with each slot name replaced by its tuple of fillers.

        Indexed ``[lang][register][sentiment index]``: a polarity-marked template only serves its
        own sentiment, unmarked ones serve all three.
        """
        out = {}
        for lang, regs in cores.items():
            per_reg = []
            for reg, templates in enumerate(regs):
                by_sent: list[list[tuple]] = [[], [], []]
                for polarity, parts in templates:
                    r = list(parts)
                    for i in range(1, len(parts), 2):
                        name = parts[i]
                        vals = self._numeric.get(name)
                        if vals is None:
                            vals = (slots.get(name) or self._common_slots[name])[lang][reg]
                        r[i] = vals
                    for k, sent in enumerate(SENTIMENTS):
                        if not polarity or (polarity == "+") == (sent == "positive") and sent != "neutral":
                            by_sent[k].append(tuple(r))
                for k, sent in enumerate(SENTIMENTS):
                    if not by_sent[k]:
                        raise ValueError(f"{what}: no {lang} template fits a {sent} post")
                per_reg.append(tuple(tuple(x) for x in by_sent))
            out[lang] = tuple(per_reg)
        return out

    @staticmethod
    def _fill(parts: tuple, rnd) -> str:
        if len(parts) == 1:
            return parts[0]
        out = [parts[0]]
        for i in range(1, len(parts), 2):
            vals = parts[i]
            out.append(vals[int(rnd() * len(vals))])
            out.append(parts[i + 1])
        return "".join(out)

    _URL_NUMBERS = {
        "n1": (1, 9),
        "n2": (10, 90),
        "n3": (100, 900),
        "n6": (100_000, 900_000),
        "n7": (1_000_000, 9_000_000),
    }

    def news_url(self, rnd, choice, when: tuple[int, int, int]) -> str:
        """A plausible article URL on a news domain, dated ``when`` (only the fields it uses are drawn)."""
        parts = self._news_paths[int(rnd() * len(self._news_paths))]
        y, m, d = when
        words = self._slug_words
        out = [parts[0]]
        for i in range(1, len(parts), 2):
            f = parts[i]
            if f == "slug":
                v = f"{choice(words)}-{choice(words)}-{choice(words)}-{choice(words)}"
            elif f == "y":
                v = str(y)
            elif f == "m":
                v = f"{m:02d}"
            elif f == "d":
                v = f"{d:02d}"
            elif f == "mon":
                v = MONTHS_EN[m - 1]
            elif f == "section":
                v = choice(SECTIONS)
            else:
                base, span = self._URL_NUMBERS[f]
                v = str(base + int(rnd() * span))
            out.append(v)
            out.append(parts[i + 1])
        return "".join(out)

    def lowcred_url(self, rnd, choice) -> str:
        if rnd() < 0.25:
            return f"https://{choice(SHORTENERS)}/{_shortcode(rnd)}"
        words = self._slug_words
        return (
            f"https://{choice(LOW_CRED_DOMAINS)}/{choice(words)}-{choice(words)}-{choice(words)}-terbongkar"
        )

    def compose(
        self,
        theme: int,
        lang: str,
        sentiment: str,
        informal: bool,
        rnd,
        choice,
        when: tuple[int, int, int],
        spike: bool | str = False,
    ) -> Composed:
        """One text. ``rnd``/``choice`` are bound methods of the run's ``random.Random``.

        ``spike``: True for the topic spike's story, ``STORY`` for the planted emerging story.
        """
        reg = 1 if informal else 0
        si = _SENT_INDEX[sentiment]
        story = spike == STORY
        if story:
            templates = self._story_ready[lang][reg][si]
        else:
            templates = self._spike_ready[lang][reg][si] if spike else self._ready[theme][lang][reg][si]
        core = self._fill(templates[int(rnd() * len(templates))], rnd)
        r = rnd()
        if si == 1:  # neutral
            opener = choice(self._op[si][lang][reg]) if r < 0.45 else ""
            comment = choice(self._cm[si][lang][reg]) if rnd() < 0.35 else ""
        else:
            # positive/negative always carry at least one sentiment phrase
            opener = choice(self._op[si][lang][reg]) if r < 0.6 else ""
            comment = choice(self._cm[si][lang][reg]) if (r >= 0.6 or rnd() < 0.45) else ""
        if opener:
            body = f"{opener} {core}"
        elif not informal and sentiment == "neutral" and r > 0.75:
            body = f"{choice(PLACES).upper()} - {core[:1].upper()}{core[1:]}"  # a news dateline
        else:
            body = core[:1].upper() + core[1:]
        if comment:
            joined = rnd() < 0.5
            if body[-1:] in ("?", "!", "."):  # a question or exclamation already ends its sentence
                body = f"{body} {comment[:1].upper()}{comment[1:]}"
            else:
                body = f"{body}, {comment}" if joined else f"{body}. {comment[:1].upper()}{comment[1:]}"
        r = rnd()
        emoji = ""
        if r < 0.45:
            emo = EMOJI[sentiment]
            emoji = choice(emo) if r < 0.32 else choice(emo) * 2 if r < 0.4 else choice(emo) + choice(emo)
        # mentions
        front: tuple[str, ...] = ()
        end: tuple[str, ...] = ()
        p, kind = self._mention[theme]
        if rnd() < p:
            handles = OFFICIAL_HANDLES if kind == "official" else BRAND_HANDLES if kind == "brand" else None
            if handles is None:
                handles = OFFICIAL_HANDLES + BRAND_HANDLES
            h = choice(handles)
            if rnd() < 0.6:
                front = (h,)
            else:
                end = (h, choice(handles)) if rnd() < 0.2 else (h,)
        # hashtags
        r = rnd()
        tags: tuple[str, ...] = ()
        pool = self._story_tags if story else self._spike_tags if spike else self._hashtags[theme]
        if story and r < 0.8:
            tags = (choice(pool),) if r < 0.5 else (choice(pool), choice(pool), choice(GENERAL_HASHTAGS))
            if len(set(tags)) < len(tags):
                tags = tuple(dict.fromkeys(tags))
        elif spike and r < 0.7:
            tags = (choice(pool),) if r < 0.45 else (choice(pool), choice(self._hashtags[theme]))
        elif r < 0.22:
            tags = (choice(pool),)
        elif r < 0.32:
            tags = (choice(pool), choice(GENERAL_HASHTAGS))
        elif r < 0.36:
            a = choice(pool)
            b = choice(pool)
            tags = (a, b, choice(GENERAL_HASHTAGS)) if a != b else (a,)
        # link
        link = None
        lp, low = self._link[theme]
        if spike:
            lp, low = 0.35, 0.0
        if rnd() < lp:
            link = self.lowcred_url(rnd, choice) if rnd() < low else self.news_url(rnd, choice, when)
        return (front, body, end, tags, link, emoji)

    def reply_opener(self, sentiment: str, lang: str, informal: bool, choice) -> str:
        return choice(self._reply_openers[(sentiment, lang, 1 if informal else 0)])


_B62 = string.digits + string.ascii_letters


def _shortcode(rnd, n: int = 7) -> str:
    return "".join(_B62[int(rnd() * 62)] for _ in range(n))


def campaign_text(variant_rng: random.Random) -> tuple[str, str]:
    """One near-verbatim copy of the planted hoax (text without link, and its link)."""
    c = CAMPAIGN
    head = variant_rng.choice(c["heads"])
    body = c["body"].format(verb=variant_rng.choice(c["verbs"]))
    tail = variant_rng.choice(c["tails"])
    emo = variant_rng.choice(c["emoji"])
    text = f"{head} {body} {tail}" + (f" {emo}" if emo else "")
    return text, c["url"]
