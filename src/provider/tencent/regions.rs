//! Region names the Tencent Cloud SDK knows for CVM, for `--all-regions`.

pub const KNOWN: &[&str] = &[
    "ap-bangkok",
    "ap-beijing",
    "ap-chengdu",
    "ap-chongqing",
    "ap-guangzhou",
    "ap-hongkong",
    "ap-jakarta",
    "ap-mumbai",
    "ap-seoul",
    "ap-shanghai",
    "ap-nanjing",
    "ap-shanghai-fsi",
    "ap-shenzhen-fsi",
    "ap-singapore",
    "ap-tokyo",
    "eu-frankfurt",
    "na-ashburn",
    "na-siliconvalley",
    "na-toronto",
    "sa-saopaulo",
];
