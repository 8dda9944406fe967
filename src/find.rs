use crate::model::KeyPair;
pub enum Needle {
    X,
}
impl Needle {
    pub fn name_glob(_s: &str) -> Result<Needle, String> {
        Ok(Needle::X)
    }
    pub fn fingerprint(_s: &str) -> Option<Needle> {
        None
    }
}
pub fn parse_needle(_a: &str, _c: Option<&str>) -> Result<Needle, String> {
    Ok(Needle::X)
}
pub fn matches(_n: &Needle, _k: &KeyPair) -> bool {
    true
}
